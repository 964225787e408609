// io_uring IORING_OP_SEND_ZC: the result CQE says the send was queued; the buffer may be reused
// only after the F_NOTIF CQE. IORING_SEND_ZC_REPORT_USAGE makes the notification say whether
// the kernel copied after all (it does on loopback).
import { native, type Ring } from '../native.ts';
import { nowMs } from '../mutation.ts';
import { bufferSource } from './sources.ts';
import type { SendMethod, SendResult, ZerocopyPending } from './types.ts';

function tracker(ring: Ring, expected: number, onRelease: () => void): ZerocopyPending {
  let received = 0;
  let copied = 0;
  let completeAt: number | null = null;
  const take = (timeoutMs: number): boolean => {
    const n = native.uringWaitNotif(ring, timeoutMs);
    if (!n) return false;
    received++;
    if (n.copied) copied++;
    if (received >= expected && completeAt === null) completeAt = nowMs();
    return true;
  };
  const summary = () => ({ expected, received, copied, completeAt });
  return {
    summary() {
      while (received < expected && take(0));
      return summary();
    },
    waitAll(timeoutMs) {
      const deadline = nowMs() + timeoutMs;
      while (received < expected) {
        const left = Math.ceil(deadline - nowMs());
        if (left <= 0 || !take(left)) break;
      }
      return summary();
    },
    release: onRelease,
  };
}

export function ioUringZcMethod(): SendMethod {
  let ring: Ring | null = null;
  return {
    prepare: (_exp, intended) => bufferSource(intended),
    send(fd, source): SendResult {
      if (source.kind !== 'buffer') throw new Error('io-uring-zc needs a buffer source');
      if (ring) native.uringClose(ring); // one ring per send() call: never leak an earlier one
      const r = native.uringCreate(8);
      ring = r;
      const bytes = source.bytes;
      const startedAt = nowMs();
      let off = 0;
      let calls = 0;
      let shortCounts = 0;
      while (off < bytes.length) {
        const res = native.uringSendZc(r, fd, bytes, off, bytes.length - off, 0);
        calls++;
        if (res.res < 0) {
          const e = new Error(`io_uring SEND_ZC failed: errno ${-res.res}`) as Error & { errno: number };
          e.errno = -res.res;
          throw e;
        }
        if (res.res < bytes.length - off) shortCounts++;
        off += res.res;
      }
      return { bytes: off, calls, shortCounts, startedAt, returnedAt: nowMs(), zerocopy: tracker(r, calls, () => undefined) };
    },
    release() {
      if (ring) native.uringClose(ring);
      ring = null;
    },
  };
}
