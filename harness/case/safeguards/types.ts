// A safeguard is what the sender does between "the send returned" and "I reuse the buffer".
import type { Experiment } from '../../model/experiment.ts';
import type { SendMethod, SendResult } from '../methods/types.ts';
import type { Source } from '../../model/patterns.ts';
import type { WriterRecord } from '../mutations/types.ts';

export interface SafeguardContext {
  fd: number;
  exp: Experiment;
  send: SendResult;
  /** lease safeguards: the lease taken on the source before the send */
  lease?: LeaseHandle;
}

export interface SafeguardResult {
  /** time spent waiting, ms */
  waitedMs: number;
  /** what ended the wait, in words ("SIOCOUTQ=0 after 12 polls", "returned at once") */
  signal: string;
  /** false: the bounded wait ran out before the safe condition was seen */
  reached: boolean;
  /** lease safeguards: taken/refused, break seen when, released when or revoked by the kernel */
  lease?: LeaseRecord;
  /** mutation by another process: what that writer saw (how long its open was held back) */
  writer?: WriterRecord;
}

export type SafeguardWait = (ctx: SafeguardContext) => SafeguardResult;

/** What a safeguard may do around a case, beyond waiting. run-case.ts calls these hooks in
 * order (prepareSource → beforeSend → send → [mutator asked, if holdsBackWriters] → wait →
 * mutation) and knows no safeguard by name. */
export interface SafeguardModule {
  wait: SafeguardWait;
  /** the source this safeguard needs instead of the method's own (leases: a read-only file) */
  prepareSource?(exp: Experiment, intended: Uint8Array, workDir: string): Source;
  /** right before the send (leases: take the lease; it must stand while the kernel reads) */
  beforeSend?(source: Source): LeaseHandle | undefined;
  /** replaces the method's send ('copy': write(2) of the same source) */
  send?(fd: number, source: Source, exp: Experiment, method: SendMethod): SendResult;
  /** true: the safeguard itself holds other processes' writes back (leases), so the other
   * process is asked to change the file right after the send returns, racing the wait the way a
   * real writer would. Otherwise the other process is asked only after the wait: a change the
   * safeguard never held back must not be blamed on it. */
  holdsBackWriters?: boolean;
}

/** A lease taken on the source before the send (lease.ts). */
export interface LeaseHandle {
  fd: number;
  takenAt: number | null;
  /** why no lease could be taken (then the case cannot show anything about leases) */
  refused: string | null;
}

export interface LeaseRecord {
  policy: 'until-ack' | 'early';
  takenAt: number | null;
  refused: string | null;
  /** epoch ms when F_GETLEASE first showed a break in progress, null if none was seen */
  breakSeenAt: number | null;
  /** epoch ms just before F_SETLEASE F_UNLCK: a held-back writer may run from here on (it can
   * timestamp its open before releasedAt, taken after the call returned) */
  releaseCalledAt: number | null;
  releasedAt: number | null;
  /** fs.lease-break-time ran out before the release: the kernel let the writer go */
  revokedByKernel: boolean;
  /** SIGIO deliveries the event loop had seen when the lease was released (they lag) */
  sigio: number;
}
