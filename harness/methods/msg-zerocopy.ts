// send(MSG_ZEROCOPY) (kernel Documentation/networking/msg_zerocopy.rst): send() returns once the
// skbs reference the user pages; the pages may be reused only after the error-queue completion
// covering that send. On loopback the kernel copies at delivery and says so (COPIED flag).
import { native, SOCK } from '../native.ts';
import { nowMs } from '../mutation.ts';
import { bufferSource } from './sources.ts';
import type { SendMethod, SendResult, ZerocopyCompletionSummary, ZerocopyPending } from './types.ts';

function tracker(fd: number, expected: number): ZerocopyPending {
  // Completion ranges [lo, hi] count zero-copy sends from 0 on this socket.
  const done = new Set<number>();
  let copied = 0;
  let completeAt: number | null = null;
  const collect = (): void => {
    for (const c of native.readZerocopyCompletions(fd)) {
      for (let i = c.lo; i <= c.hi; i++) {
        if (done.has(i)) continue;
        done.add(i);
        if (c.copied) copied++;
      }
    }
    if (completeAt === null && done.size >= expected) completeAt = nowMs();
  };
  const summary = (): ZerocopyCompletionSummary => ({ expected, received: done.size, copied, completeAt });
  return {
    summary: () => (collect(), summary()),
    waitAll(timeoutMs) {
      const deadline = nowMs() + timeoutMs;
      collect();
      while (done.size < expected && nowMs() < deadline) {
        // POLLERR signals a non-empty error queue; poll in short slices to honour the deadline.
        native.poll(fd, 0, Math.max(1, Math.min(50, Math.ceil(deadline - nowMs()))));
        collect();
      }
      return summary();
    },
    release() {},
  };
}

export const msgZerocopyMethod: SendMethod = {
  prepare: (_exp, intended) => bufferSource(intended),
  send(fd, source): SendResult {
    if (source.kind !== 'buffer') throw new Error('msg-zerocopy needs a buffer source');
    native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_ZEROCOPY, 1);
    const bytes = source.bytes;
    const startedAt = nowMs();
    let off = 0;
    let calls = 0;
    let shortCounts = 0;
    while (off < bytes.length) {
      const n = native.send(fd, bytes, off, bytes.length - off, SOCK.MSG_ZEROCOPY);
      calls++;
      if (n <= 0) throw new Error(`send(MSG_ZEROCOPY) returned ${n}`);
      if (n < bytes.length - off) shortCounts++;
      off += n;
    }
    return { bytes: off, calls, shortCounts, startedAt, returnedAt: nowMs(), zerocopy: tracker(fd, calls) };
  },
};
