// vmsplice(2) user memory → pipe, then splice(2) pipe → socket: the skbs reference the user's
// pages. With SPLICE_F_GIFT the pages are "gifted" to the kernel (man vmsplice: the application
// must not modify them afterwards), which is the claim the gift variant tests.
import { native, SPLICE } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { sendMethod } from './one-message.ts';
import { bufferSource, closePipe, drainPipeToSocket, openPipe, type Pipe } from './sources.ts';

/** vmsplices bytes[from, to) in pipe-sized chunks and splices each chunk to the socket. */
export function vmspliceRange(
  fd: number, pipe: Pipe, bytes: Uint8Array, from: number, to: number, gift: boolean,
): { calls: number; shortCounts: number } {
  let off = from;
  let calls = 0;
  let shortCounts = 0;
  const vflags = gift ? SPLICE.SPLICE_F_GIFT : 0;
  while (off < to) {
    const want = Math.min(to - off, pipe.capacity);
    const n = native.vmsplice(pipe.w, bytes, off, want, vflags);
    calls++;
    if (n <= 0) throw new Error(`vmsplice returned ${n} at offset ${off}`);
    if (n < want) shortCounts++;
    // SPLICE_F_MORE (MSG_MORE) except on the last chunk: a corked tail would sit unsent until
    // the FIN and make every size look unsafe for a reason that is not the one under test.
    const sflags = SPLICE.SPLICE_F_MOVE | (off + n < to ? SPLICE.SPLICE_F_MORE : 0);
    const d = drainPipeToSocket(pipe.r, fd, n, sflags);
    calls += d.calls;
    shortCounts += d.short;
    off += n;
  }
  return { calls, shortCounts };
}

export function vmspliceMethod(gift: boolean) {
  return sendMethod(
    (_exp, intended) => bufferSource(intended),
    (fd, source, exp) => {
      if (source.kind !== 'buffer') throw new Error('vmsplice needs a buffer source');
      const bytes = source.bytes;
      const pipe = openPipe(exp.pipeSize);
      const fallbacks = pipe.fallback ? { fallbacks: [pipe.fallback] } : {};
      return {
        send() {
          const startedAt = nowMs();
          const r = vmspliceRange(fd, pipe, bytes, 0, bytes.length, gift);
          return { bytes: bytes.length, ...r, startedAt, returnedAt: nowMs(), ...fallbacks };
        },
        close: () => closePipe(pipe),
      };
    },
  );
}
