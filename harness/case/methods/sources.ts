// Sources of a case: page-aligned user memory (MADV_DONTFORK) or a file in the work directory.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FILE, isNativeError, native } from '../../native.ts';
import type { Source } from '../../model/patterns.ts';

let fileCounter = 0;

export function bufferSource(intended: Uint8Array): Source {
  const bytes = new Uint8Array(native.allocPages(intended.length));
  bytes.set(intended);
  return { kind: 'buffer', bytes };
}

/** A new file in `workDir` holding `intended`, and its read-write fd. */
function newFile(intended: Uint8Array, workDir: string): { path: string; fd: number } {
  const path = join(workDir, `source-${process.pid}-${++fileCounter}.bin`);
  const fd = native.open(path, FILE.O_RDWR | FILE.O_CREAT | FILE.O_TRUNC, 0o644);
  let done = 0;
  while (done < intended.length) done += native.pwrite(fd, intended, done, intended.length - done, done);
  return { path, fd };
}

/** A new file holding `intended`, opened read-write; `mapped` adds a shared writable mapping. */
export function fileSource(intended: Uint8Array, workDir: string, mapped: boolean): Source {
  const { path, fd } = newFile(intended, workDir);
  const mapping = mapped ? new Uint8Array(native.mapFile(fd, intended.length, true)) : undefined;
  return { kind: 'file', fd, path, size: intended.length, mapping };
}

/** The same file for lease cases: the sender keeps only a read-only fd (and, for mmap-write, a
 * read-only shared mapping), because the kernel refuses a read lease (EAGAIN) while any fd or
 * shared mapping can write the file — including the sender's own. */
export function readOnlyFileSource(intended: Uint8Array, workDir: string, mapped: boolean): Source {
  const { path, fd: rw } = newFile(intended, workDir);
  native.close(rw);
  const fd = native.open(path, FILE.O_RDONLY);
  try {
    const mapping = mapped ? new Uint8Array(native.mapFile(fd, intended.length, false)) : undefined;
    return { kind: 'file', fd, path, size: intended.length, mapping };
  } catch (e) {
    native.close(fd);
    rmSync(path, { force: true });
    throw e;
  }
}

/** What a file holds now through its name, up to `size` bytes (fewer if it is shorter); null if
 * the name is gone. Read after a case: what a later reader of the file would get. */
export function readBack(path: string, size: number): Uint8Array | null {
  let fd: number;
  try {
    fd = native.open(path, FILE.O_RDONLY);
  } catch {
    return null;
  }
  try {
    const out = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = native.pread(fd, out, got, size - got, got);
      if (n <= 0) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    native.close(fd);
  }
}

export function releaseSource(source: Source): void {
  if (source.kind !== 'file') return;
  native.close(source.fd);
  rmSync(source.path, { force: true });
}

export interface Pipe {
  r: number;
  w: number;
  /** the capacity the kernel granted (F_SETPIPE_SZ rounds up to a power-of-two number of pages) */
  capacity: number;
  /** set when the capacity asked for was refused and a smaller one is used instead */
  fallback?: string;
}

function pipeMaxSize(): number | null {
  try {
    const n = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** A pipe of the given capacity (F_SETPIPE_SZ). Above fs.pipe-max-size the kernel refuses it
 * without CAP_SYS_RESOURCE, which root may lack (it does in this project's VM), and sizes past its
 * own limit are EINVAL: the pipe then gets fs.pipe-max-size, and `fallback` says so. With
 * `exact`, a refusal is an error instead (tee needs the whole message in one pipe). */
export function openPipe(capacity: number, exact = false): Pipe {
  const [r, w] = native.pipe2(0);
  try {
    try {
      return { r, w, capacity: native.fcntlInt(w, FILE.F_SETPIPE_SZ, capacity) };
    } catch (e) {
      const max = pipeMaxSize();
      if (exact || !isNativeError(e) || !['EPERM', 'EINVAL'].includes(e.code) || max === null || max >= capacity) throw e;
      const got = native.fcntlInt(w, FILE.F_SETPIPE_SZ, max);
      return { r, w, capacity: got, fallback: `pipe capacity ${capacity} B refused (${e.code}): used ${got} B (fs.pipe-max-size)` };
    }
  } catch (e) {
    native.close(r);
    native.close(w);
    throw e;
  }
}

export function closePipe(p: { r: number; w: number }): void {
  native.close(p.r);
  native.close(p.w);
}

/** Moves exactly `len` bytes already in the pipe into the socket. Returns the splice calls made. */
export function drainPipeToSocket(pipeR: number, fd: number, len: number, flags: number): { calls: number; short: number } {
  let left = len;
  let calls = 0;
  let short = 0;
  while (left > 0) {
    const n = native.splice(pipeR, null, fd, null, left, flags);
    calls++;
    if (n <= 0) throw new Error(`splice pipe→socket moved ${n} bytes with ${left} left`);
    if (n < left) short++;
    left -= n;
  }
  return { calls, short };
}
