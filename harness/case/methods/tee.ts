// tee(2): user memory is vmspliced into pipe A, tee() duplicates A into pipe B without
// consuming A, and B is spliced to the socket. Both pipes reference the same pages: the second
// output (A, read after the mutation) shows whether the duplicate shares them too.
import { native, SPLICE } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { sendMethod } from './one-message.ts';
import { bufferSource, closePipe, drainPipeToSocket, openPipe, type Pipe } from './sources.ts';
import type { MessageSender, SendResult } from './types.ts';

function pow2AtLeast(n: number): number {
  let p = 4096;
  while (p < n) p *= 2;
  return p;
}

/** The send loop: bytes → A (vmsplice), A → B (tee), B → socket (splice). A keeps its copy,
 * which `readSecondOutput` reads: read it before the next message, or A fills up. */
export function teeAll(fd: number, bytes: Uint8Array, a: Pipe, b: Pipe): SendResult {
  const size = bytes.length;
  const startedAt = nowMs();
  let calls = 0;
  let shortCounts = 0;
  for (let off = 0; off < size; ) {
    const n = native.vmsplice(a.w, bytes, off, size - off, 0);
    calls++;
    if (n <= 0) throw new Error(`vmsplice returned ${n} at offset ${off}`);
    if (n < size - off) shortCounts++;
    off += n;
  }
  for (let dup = 0; dup < size; ) {
    const n = native.tee(a.r, b.w, size - dup, 0);
    calls++;
    if (n <= 0) throw new Error(`tee returned ${n} after ${dup} bytes`);
    if (n < size - dup) shortCounts++;
    dup += n;
  }
  const d = drainPipeToSocket(b.r, fd, size, SPLICE.SPLICE_F_MOVE);
  return {
    bytes: size,
    calls: calls + d.calls,
    shortCounts: shortCounts + d.short,
    startedAt,
    returnedAt: nowMs(),
    readSecondOutput() {
      const out = new Uint8Array(size);
      for (let got = 0; got < size; ) {
        const n = native.read(a.r, out, got, size - got);
        if (n === 0) break;
        got += n;
      }
      return out;
    },
  };
}

function openTee(fd: number, bytes: Uint8Array, pipeSize: number): MessageSender {
  // tee() cannot start past the head of A, so both pipes must hold the whole message: no smaller
  // fallback capacity here.
  const capacity = pow2AtLeast(Math.max(bytes.length, pipeSize));
  let a: Pipe;
  try {
    a = openPipe(capacity, true);
  } catch (e) {
    throw new Error(`tee needs pipes that hold the whole message (${capacity} B): ${(e as Error).message} — fs.pipe-max-size limits this without CAP_SYS_RESOURCE`);
  }
  let b: Pipe;
  try {
    b = openPipe(capacity, true);
  } catch (e) {
    closePipe(a);
    throw e;
  }
  return {
    send: () => teeAll(fd, bytes, a, b),
    close() {
      closePipe(a);
      closePipe(b);
    },
  };
}

export function teeMethod() {
  return sendMethod(
    (_exp, intended) => bufferSource(intended),
    (fd, source, exp) => {
      if (source.kind !== 'buffer') throw new Error('tee needs a buffer source');
      return openTee(fd, source.bytes, exp.pipeSize);
    },
  );
}
