// splice(2) file → pipe → socket: the pipe buffers and then the skbs reference page-cache pages.
import { native, SPLICE } from '../native.ts';
import { nowMs } from '../mutation.ts';
import { closePipe, drainPipeToSocket, fileSource, openPipe } from './sources.ts';
import type { SendMethod, SendResult } from './types.ts';

export function spliceMethod(): SendMethod {
  let pipe: { r: number; w: number; capacity: number } | null = null;
  return {
    prepare: (_exp, intended, workDir) => fileSource(intended, workDir, false),
    send(fd, source, exp): SendResult {
      if (source.kind !== 'file') throw new Error('splice needs a file source');
      pipe = openPipe(exp.pipeSize);
      const startedAt = nowMs();
      let offset = 0;
      let calls = 0;
      let shortCounts = 0;
      while (offset < source.size) {
        const want = Math.min(source.size - offset, pipe.capacity);
        const n = native.splice(source.fd, offset, pipe.w, null, want, SPLICE.SPLICE_F_MOVE | SPLICE.SPLICE_F_MORE);
        calls++;
        if (n === 0) throw new Error(`splice file→pipe returned 0 at offset ${offset} (file truncated?)`);
        if (n < want) shortCounts++;
        // MSG_MORE except on the last chunk, so the tail is not corked until the FIN.
        const more = offset + n < source.size ? SPLICE.SPLICE_F_MORE : 0;
        const d = drainPipeToSocket(pipe.r, fd, n, SPLICE.SPLICE_F_MOVE | more);
        calls += d.calls;
        shortCounts += d.short;
        offset += n;
      }
      return { bytes: offset, calls, shortCounts, startedAt, returnedAt: nowMs() };
    },
    release() {
      if (pipe) closePipe(pipe);
      pipe = null;
    },
  };
}
