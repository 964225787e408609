// Safeguards 'lease' (an F_RDLCK lease released after the receiver's ack) and 'lease-early' (released when the send returns);
// the change comes from the mutator process, whose open(O_WRONLY) the lease holds back. The break is detected with F_GETLEASE,
// synchronously, because the sender blocks in sync calls; the kernel facts this relies on are in docs/results-6.18.md.
import type { Experiment } from '../../model/experiment.ts';
import { readOnlyFileSource } from '../methods/sources.ts';
import { isNativeError, FILE, native, SOCK } from '../../native.ts';
import { nowMs, type Source } from '../../model/patterns.ts';
import type { LeaseHandle, LeaseRecord, SafeguardContext, SafeguardModule, SafeguardResult, SafeguardWait } from './types.ts';

let sigioSeen = 0;
let sigioInstalled = false;

/** Takes an F_RDLCK lease on `fd` (which must not be writable). */
export function takeLease(fd: number): LeaseHandle {
  if (!sigioInstalled) {
    // Kept installed for the life of the process: a late signal after removal would kill it.
    process.on('SIGIO', () => void sigioSeen++);
    sigioInstalled = true;
  }
  try {
    native.fcntlInt(fd, FILE.F_SETLEASE, FILE.F_RDLCK);
    return { fd, takenAt: nowMs(), refused: null };
  } catch (e) {
    if (!isNativeError(e) || e.code !== 'EAGAIN') throw e;
    return { fd, takenAt: null, refused: 'F_SETLEASE F_RDLCK refused (EAGAIN): some process has the file open for writing or mapped shared-writable' };
  }
}

/** True while the lease stands unbroken; false once a writer is breaking it (or it is gone). */
function unbroken(fd: number): boolean {
  return native.fcntlInt(fd, FILE.F_GETLEASE) === FILE.F_RDLCK;
}

/** F_UNLCK; EAGAIN means the kernel had already removed the lease (break time ran out). */
function release(fd: number): Pick<LeaseRecord, 'releaseCalledAt' | 'releasedAt' | 'revokedByKernel'> {
  const releaseCalledAt = nowMs();
  try {
    native.fcntlInt(fd, FILE.F_SETLEASE, FILE.F_UNLCK);
    return { releaseCalledAt, releasedAt: nowMs(), revokedByKernel: false };
  } catch (e) {
    if (!isNativeError(e) || e.code !== 'EAGAIN') throw e;
    return { releaseCalledAt, releasedAt: nowMs(), revokedByKernel: true };
  }
}

type AckOutcome = { ok: true } | { ok: false; why: string };

/** One bounded step of waiting for the receiver's one-byte ack; null: not yet. */
function ackStep(fd: number, stepMs: number): AckOutcome | null {
  const revents = native.poll(fd, SOCK.POLLIN, stepMs);
  if (revents & SOCK.POLLIN) {
    const b = Buffer.alloc(1);
    const n = native.read(fd, b, 0, 1);
    return n === 1 && b[0] === 0x41 ? { ok: true } : { ok: false, why: `unexpected ack (${n} bytes)` };
  }
  if (revents & SOCK.POLLHUP) return { ok: false, why: 'connection closed before the ack' };
  return null;
}

function leaseWait(policy: LeaseRecord['policy']): SafeguardWait {
  return (ctx: SafeguardContext): SafeguardResult => {
    const lease = ctx.lease;
    if (!lease) throw new Error(`safeguard lease${policy === 'early' ? '-early' : ''}: no lease was taken before the send`);
    const record: LeaseRecord = {
      policy, takenAt: lease.takenAt, refused: lease.refused,
      breakSeenAt: null, releaseCalledAt: null, releasedAt: null, revokedByKernel: false, sigio: sigioSeen,
    };
    const start = nowMs();
    if (lease.refused) return { waitedMs: 0, signal: lease.refused, reached: false, lease: record };
    const seeBreak = () => {
      if (record.breakSeenAt === null && !unbroken(lease.fd)) record.breakSeenAt = nowMs();
    };
    let outcome: AckOutcome = { ok: true };
    try {
      seeBreak();
      if (policy === 'until-ack') {
        // Short poll steps so a break is timestamped within ~pollIntervalMs of happening.
        const deadline = start + ctx.exp.safeguardTimeoutMs;
        const step = Math.max(1, Math.ceil(ctx.exp.pollIntervalMs));
        let got: AckOutcome | null = null;
        while (!got && nowMs() < deadline) {
          got = ackStep(ctx.fd, step);
          seeBreak();
        }
        outcome = got ?? { ok: false, why: `no ack within ${ctx.exp.safeguardTimeoutMs} ms` };
      }
    } finally {
      // Always released here, also on a timeout or error: a held lease stalls the writer.
      Object.assign(record, release(lease.fd), { sigio: sigioSeen });
    }
    const waitedMs = nowMs() - start;
    const broke = record.breakSeenAt === null ? 'no break seen' : `break seen after ${(record.breakSeenAt - start).toFixed(1)} ms`;
    if (record.revokedByKernel)
      return { waitedMs, signal: `the kernel revoked the lease (fs.lease-break-time ran out) before the release; ${broke}`, reached: false, lease: record };
    if (!outcome.ok) return { waitedMs, signal: `${outcome.why}; lease released anyway; ${broke}`, reached: false, lease: record };
    const what = policy === 'early' ? 'lease released right after the send returned' : 'application ack received, then lease released';
    return { waitedMs, signal: `${what}; ${broke}`, reached: true, lease: record };
  };
}

/** A lease needs a source nobody can write through, the sender included (EAGAIN otherwise). */
function leaseModule(policy: LeaseRecord['policy']): SafeguardModule {
  return {
    wait: leaseWait(policy),
    prepareSource: (exp: Experiment, intended: Uint8Array, workDir: string) => readOnlyFileSource(intended, workDir, exp.method === 'mmap-write'),
    beforeSend: (source: Source) => (source.kind === 'file' ? takeLease(source.fd) : undefined),
    holdsBackWriters: true,
  };
}

export const leaseUntilAck: SafeguardModule = leaseModule('until-ack');
export const leaseEarly: SafeguardModule = leaseModule('early');
