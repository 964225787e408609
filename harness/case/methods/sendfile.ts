// sendfile(2) file → socket: the socket's skbs reference page-cache pages; nothing is copied.
import { native } from '../../native.ts';
import { nowMs } from '../../model/patterns.ts';
import { fileSource } from './sources.ts';
import { sendMethod } from './one-message.ts';
import type { SendResult } from './types.ts';

/** Linux moves at most 0x7ffff000 bytes per sendfile call (MAX_RW_COUNT). */
export const SENDFILE_MAX_PER_CALL = 0x7ffff000;

/** sendfile loop from offset 0; returns per-call counts too (the caller may assert the cap). */
export function sendfileAll(fd: number, fileFd: number, size: number, counts?: number[]): SendResult {
  const startedAt = nowMs();
  let offset = 0;
  let calls = 0;
  let shortCounts = 0;
  while (offset < size) {
    const want = size - offset;
    const r = native.sendfile(fd, fileFd, offset, want);
    calls++;
    counts?.push(r.bytes);
    if (r.bytes === 0) throw new Error(`sendfile returned 0 at offset ${offset} of ${size} (file truncated?)`);
    if (r.bytes < want) shortCounts++;
    offset = r.offset;
  }
  return { bytes: offset, calls, shortCounts, startedAt, returnedAt: nowMs() };
}

export function sendfileMethod() {
  return sendMethod(
    (_exp, intended, workDir) => fileSource(intended, workDir, false),
    (fd, source) => {
      if (source.kind !== 'file') throw new Error('sendfile needs a file source');
      return { send: () => sendfileAll(fd, source.fd, source.size), close() {} };
    },
  );
}
