// tee(2): user memory is vmspliced into pipe A, tee() duplicates A into pipe B without
// consuming A, and B is spliced to the socket. Both pipes reference the same pages: the second
// output (A, read after the mutation) shows whether the duplicate shares them too.
import { native, SPLICE } from '../native.ts';
import { nowMs } from '../mutation.ts';
import { bufferSource, closePipe, drainPipeToSocket, openPipe } from './sources.ts';
import type { SendMethod, SendResult } from './types.ts';

function pow2AtLeast(n: number): number {
  let p = 4096;
  while (p < n) p *= 2;
  return p;
}

export function teeMethod(): SendMethod {
  const pipes: { r: number; w: number; capacity: number }[] = [];
  return {
    prepare: (_exp, intended) => bufferSource(intended),
    send(fd, source, exp): SendResult {
      if (source.kind !== 'buffer') throw new Error('tee needs a buffer source');
      const size = source.bytes.length;
      // tee() cannot start past the head of A, so both pipes must hold the whole message.
      const capacity = pow2AtLeast(Math.max(size, exp.pipeSize));
      let a;
      try {
        a = openPipe(capacity);
      } catch (e) {
        throw new Error(`tee needs pipes that hold the whole message (${capacity} B): ${(e as Error).message} — fs.pipe-max-size limits this without CAP_SYS_RESOURCE`);
      }
      pipes.push(a);
      const b = openPipe(capacity);
      pipes.push(b);
      const startedAt = nowMs();
      let calls = 0;
      let shortCounts = 0;
      for (let off = 0; off < size; ) {
        const n = native.vmsplice(a.w, source.bytes, off, size - off, 0);
        calls++;
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
    },
    release() {
      for (const p of pipes.splice(0)) closePipe(p);
    },
  };
}
