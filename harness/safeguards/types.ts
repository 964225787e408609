// A safeguard is what the sender does between "the send returned" and "I reuse the buffer".
import type { Experiment } from '../experiment.ts';
import type { SendResult } from '../methods/types.ts';
import type { WriterRecord } from '../mutator/protocol.ts';
import type { LeaseHandle, LeaseRecord } from './lease.ts';

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
