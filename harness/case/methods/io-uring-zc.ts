// io_uring IORING_OP_SEND_ZC: the buffer may be reused only after the F_NOTIF CQE. REPORT_USAGE says whether the kernel
// copied; kernels before 6.2 refuse it with EINVAL, so the send is retried without it and COPIED is unknown (docs/results-6.18.md).
import { constants } from 'node:os';
import { native } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { CompletionCount } from './completions.ts';
import { sendMethod } from './one-message.ts';
import { bufferSource } from './sources.ts';
import { DEFAULT_SEND_LIMITS, type MessageSender, type SendResult } from './types.ts';

const EINVAL = constants.errno.EINVAL;

function errnoName(errno: number): string {
  return Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
}

export interface UringZcOptions {
  /** SEND_ZC flags (sqe->ioprio) to try first; default IORING_SEND_ZC_REPORT_USAGE */
  zcFlags?: number;
  resultTimeoutMs?: number;
}

export interface UringState {
  zcFlags: number;
  readonly fallbacks: string[];
}

/** One SEND_ZC of bytes[off, off + len) with the given flags, waited for: its result CQE. */
export type SendZcCall = (off: number, len: number, zcFlags: number) => { res: number; more: boolean };

/** The send loop on one ring: `len` bytes, one notification expected per F_MORE result. */
export function uringSendAll(sendCall: SendZcCall, len: number, count: CompletionCount, state: UringState): SendResult {
  const startedAt = nowMs();
  let off = 0;
  let calls = 0;
  let shortCounts = 0;
  while (off < len) {
    const r = sendCall(off, len - off, state.zcFlags);
    calls++;
    if (r.more) count.expected++;
    if (r.res === -EINVAL && state.zcFlags !== 0) {
      const what = state.zcFlags === native.uringSendZcReportUsage ? 'IORING_SEND_ZC_REPORT_USAGE' : `SEND_ZC flags 0x${state.zcFlags.toString(16)}`;
      state.fallbacks.push(`${what} refused (EINVAL): sent without ${state.zcFlags === native.uringSendZcReportUsage ? 'it' : 'them'}, so COPIED is unknown`);
      state.zcFlags = 0;
      count.copiedKnown = false;
      continue; // bounded: with no flags left, a second EINVAL is thrown below
    }
    if (r.res < 0) {
      const e = new Error(`io_uring SEND_ZC failed at offset ${off} of ${len}: ${errnoName(-r.res)}`) as Error & { errno: number };
      e.errno = -r.res;
      throw e;
    }
    // A stream send that moves nothing would repeat forever: stop at the first one.
    if (r.res === 0) throw new Error(`io_uring SEND_ZC sent 0 of ${len - off} bytes at offset ${off} of ${len}: no progress (peer gone?)`);
    if (r.res < len - off) shortCounts++;
    off += r.res;
  }
  // No drain here: uringSendZc set aside every notification it met while waiting for results.
  const fallbacks = state.fallbacks.length ? { fallbacks: [...state.fallbacks] } : {};
  return { bytes: off, calls, shortCounts, startedAt, returnedAt: nowMs(), ...fallbacks, zerocopy: count };
}

export function openIoUringZc(fd: number, bytes: Uint8Array, opts: UringZcOptions = {}): MessageSender {
  const ring = native.uringCreate(8);
  const count = new CompletionCount((c, timeoutMs) => {
    const n = native.uringWaitNotif(ring, timeoutMs);
    if (n) c.add(1, n.copied);
    return n !== null;
  });
  const state: UringState = { zcFlags: opts.zcFlags ?? native.uringSendZcReportUsage, fallbacks: [] };
  const timeout = opts.resultTimeoutMs ?? DEFAULT_SEND_LIMITS.resultTimeoutMs;
  const sendCall: SendZcCall = (off, len, zcFlags) => native.uringSendZc(ring, fd, bytes, off, len, 0, zcFlags, timeout);
  let open = true;
  return {
    zerocopy: count,
    send: () => uringSendAll(sendCall, bytes.length, count, state),
    close() {
      if (open) native.uringClose(ring);
      open = false;
    },
  };
}

export function ioUringZcMethod() {
  return sendMethod(
    (_exp, intended) => bufferSource(intended),
    (fd, source, _exp, limits) => {
      if (source.kind !== 'buffer') throw new Error('io-uring-zc needs a buffer source');
      return openIoUringZc(fd, source.bytes, { resultTimeoutMs: limits?.resultTimeoutMs });
    },
  );
}
