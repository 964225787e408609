// Shared by the mutation modules: the served file's fd (the sender's own, or opened now by another
// process), full-length pwrite, expectations built from the patterns, and support probes that try
// the operation on a scratch file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { nowMs, patternA, patternB } from '../../model/patterns.ts';
import { FILE, isNativeError, native } from '../../native.ts';
import type { AppliedMutation, ChangeKind, Expectation, MutationTarget } from './types.ts';

/** The served file's fd: the sender's own (nothing opened), or open(path, flags) now, timed. */
export function servedFd(
  target: MutationTarget, flags = FILE.O_WRONLY,
): { fd: number; own: boolean; openStartedAt: number; openedAt: number } {
  if (!target.path) throw new Error('this mutation needs a file source (a path to open), not memory');
  const openStartedAt = nowMs();
  if (target.source?.kind === 'file' && flags === FILE.O_WRONLY) return { fd: target.source.fd, own: true, openStartedAt, openedAt: openStartedAt };
  const fd = native.open(target.path, flags);
  return { fd, own: false, openStartedAt, openedAt: nowMs() };
}

export function closeUnlessOwn(f: { fd: number; own: boolean }): void {
  if (!f.own) native.close(f.fd);
}

/** pwrite of bytes[from, from+len) at file offset `at`, looping over short counts. */
export function pwriteAll(fd: number, bytes: Uint8Array, from: number, len: number, at: number): void {
  for (let done = 0; done < len; ) {
    const n = native.pwrite(fd, bytes, from + done, len - done, at + done);
    if (n <= 0) throw new Error(`pwrite wrote ${n} bytes at ${at + done}`);
    done += n;
  }
}

/** A record for a mutation that began at `startedAt` and whose served-file open was `f`. */
export function applied(startedAt: number, f: { openStartedAt: number; openedAt: number } | null, steps: AppliedMutation['steps']): AppliedMutation {
  return {
    startedAt,
    openStartedAt: f?.openStartedAt ?? startedAt,
    openedAt: f?.openedAt ?? startedAt,
    mutatedAt: steps[steps.length - 1]?.at ?? nowMs(),
    steps,
  };
}

/** The intended bytes with [start, end) (clipped to size) turned new (pattern B) or zero. */
export function expectRange(size: number, start: number, end: number, to: ChangeKind): Expectation {
  const s = Math.min(start, size);
  const e = Math.min(end, size);
  if (to === 'new' && s === 0 && e === size) return { after: patternB(size), changes: size ? [{ start: 0, end: size, to }] : [] };
  const after = new Uint8Array(size);
  after.set(patternA(size));
  if (to === 'new') after.set(patternB(e).subarray(s, e), s);
  else after.fill(0, s, e);
  return { after, changes: e > s ? [{ start: s, end: e, to }] : [] };
}

let scratchCounter = 0;

/** Runs `attempt` on a fresh 8 KiB scratch file in `dir` (and a second one for FICLONE); the
 * reason it failed, or null. The scratch files are always removed. */
export function probeOn(dir: string, what: string, attempt: (fd: number, path: string, other: () => number) => void): string | null {
  const path = join(dir, `.zcprobe-probe-${process.pid}-${++scratchCounter}`);
  const otherPath = `${path}-b`;
  const fds: number[] = [];
  try {
    const fd = native.open(path, FILE.O_RDWR | FILE.O_CREAT | FILE.O_EXCL, 0o600);
    fds.push(fd);
    pwriteAll(fd, patternA(8192), 0, 8192, 0);
    attempt(fd, path, () => fds[fds.push(native.open(otherPath, FILE.O_RDWR | FILE.O_CREAT | FILE.O_EXCL, 0o600)) - 1]!);
    return null;
  } catch (e) {
    return `${what}: ${isNativeError(e) ? `${e.syscall}: ${e.code}` : (e as Error).message}`;
  } finally {
    for (const fd of fds) native.close(fd);
    rmSync(path, { force: true });
    rmSync(otherPath, { force: true });
  }
}
