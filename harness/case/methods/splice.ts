// splice(2) file → pipe → socket: the pipe buffers and then the skbs reference page-cache pages.
import { native, SPLICE } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { sendMethod } from './one-message.ts';
import { closePipe, drainPipeToSocket, fileSource, openPipe, type Pipe } from './sources.ts';
import type { SendResult } from './types.ts';

/** The send loop: the whole file [0, size) through `pipe` to the socket, pipe-sized chunks. */
export function spliceAll(fd: number, fileFd: number, size: number, pipe: Pipe): SendResult {
  const startedAt = nowMs();
  let offset = 0;
  let calls = 0;
  let shortCounts = 0;
  while (offset < size) {
    const want = Math.min(size - offset, pipe.capacity);
    const n = native.splice(fileFd, offset, pipe.w, null, want, SPLICE.SPLICE_F_MOVE | SPLICE.SPLICE_F_MORE);
    calls++;
    if (n === 0) throw new Error(`splice file→pipe returned 0 at offset ${offset} (file truncated?)`);
    if (n < want) shortCounts++;
    // MSG_MORE except on the last chunk, so the tail is not corked until the FIN.
    const more = offset + n < size ? SPLICE.SPLICE_F_MORE : 0;
    const d = drainPipeToSocket(pipe.r, fd, n, SPLICE.SPLICE_F_MOVE | more);
    calls += d.calls;
    shortCounts += d.short;
    offset += n;
  }
  return { bytes: offset, calls, shortCounts, startedAt, returnedAt: nowMs(), ...(pipe.fallback ? { fallbacks: [pipe.fallback] } : {}) };
}

export function spliceMethod() {
  return sendMethod(
    (_exp, intended, workDir) => fileSource(intended, workDir, false),
    (fd, source, exp) => {
      if (source.kind !== 'file') throw new Error('splice needs a file source');
      const pipe = openPipe(exp.pipeSize);
      return { send: () => spliceAll(fd, source.fd, source.size, pipe), close: () => closePipe(pipe) };
    },
  );
}
