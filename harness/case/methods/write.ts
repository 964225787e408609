// write(2) from user memory: the kernel copies the bytes into socket buffers before returning.
import { native } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { sendMethod } from './one-message.ts';
import { bufferSource } from './sources.ts';
import type { SendResult } from './types.ts';
import type { Source } from '../../model/patterns.ts';

/** Writes all of `bytes` with write(2), looping over short counts. */
export function writeAll(fd: number, bytes: Uint8Array): SendResult {
  const startedAt = nowMs();
  let done = 0;
  let calls = 0;
  let shortCounts = 0;
  while (done < bytes.length) {
    const n = native.write(fd, bytes, done, bytes.length - done);
    calls++;
    if (n <= 0) throw new Error(`write returned ${n} with ${bytes.length - done} bytes left`);
    if (n < bytes.length - done) shortCounts++;
    done += n;
  }
  return { bytes: done, calls, shortCounts, startedAt, returnedAt: nowMs() };
}

export function sourceBytes(source: Source): Uint8Array {
  if (source.kind === 'buffer') return source.bytes;
  if (!source.mapping) throw new Error('this method needs a buffer or a mapped file');
  return source.mapping;
}

export function writeMethod() {
  return sendMethod(
    (_exp, intended) => bufferSource(intended),
    (fd, source) => {
      const bytes = sourceBytes(source);
      return { send: () => writeAll(fd, bytes), close() {} };
    },
  );
}
