// Mutation specs parse to one canonical text; every mutation, applied by the sender (its fd) or the mutator (only the path),
// leaves the name holding exactly its expectation. No sockets: tmpfs and /var/tmp (loop filesystems: harness/world/fs/fs.test.ts).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileSource, releaseSource } from '../methods/sources.ts';
import { patternA, patternB } from '../../model/patterns.ts';
import { MutatorProcess } from '../../roles/mutator/client.ts';
import { mutationFor, mutationUnsupported } from './index.ts';
import { formatMutation, parseMutation, resolveMutation } from '../../model/mutation-spec.ts';
import { applyEachAndCheck, expectationHolds, SAMPLE_MUTATIONS } from './check-expectation.ts';

test('specs parse to canonical text; bad ones name the accepted forms', (t) => {
  const ok: [string, string][] = [
    ['pwrite', 'pwrite'], ['pwrite:4KiB:100', 'pwrite:4096:100'], ['ftruncate', 'truncate:0'], ['truncate:600000', 'truncate:600000'],
    ['punch-hole:0:1MiB', 'punch-hole:0:1048576'], ['odirect-write', 'odirect-write'], ['odirect-write:4096:8192', 'odirect-write:4096:8192'],
    ['rename-replace', 'rename-replace'], ['reflink-then-write', 'reflink-then-write'], ['overwrite', 'overwrite'],
    ['copy-over', 'copy-over'], ['copytruncate', 'copytruncate'],
  ];
  for (const [text, canonical] of ok) t.is(formatMutation(parseMutation(text)), canonical, text);
  t.throws(() => parseMutation('truncate'), { message: /truncate:LENGTH/ });
  t.throws(() => parseMutation('punch-hole:5'), { message: /punch-hole:OFFSET:LENGTH/ });
  t.throws(() => parseMutation('odirect-write:100:4096'), { message: /multiples of 4096/ });
  t.throws(() => parseMutation('pwrite:0:0'), { message: /at least 1/ });
  t.throws(() => parseMutation('shred'), { message: /not one of overwrite, pwrite/ });
  t.throws(() => parseMutation('rename-replace:1:2'), { message: /not one of/ });
});

test('resolve: ranges against the message, truncation past the end, O_DIRECT rounded to blocks', (t) => {
  t.deepEqual(resolveMutation('pwrite', 1000), { kind: 'pwrite', text: 'pwrite', offset: 0, length: 1000 });
  t.deepEqual(resolveMutation('pwrite', 1000, true), { kind: 'pwrite', text: 'pwrite', offset: 0, length: 500 });
  t.deepEqual(resolveMutation('truncate:600', 1000), { kind: 'truncate', text: 'truncate:600', offset: 600, length: 400 });
  t.deepEqual(resolveMutation('truncate:5000', 1000), { kind: 'truncate', text: 'truncate:5000', offset: 5000, length: 0 });
  t.deepEqual(resolveMutation('odirect-write', 5000), { kind: 'odirect-write', text: 'odirect-write', offset: 0, length: 8192 });
  t.throws(() => resolveMutation('pwrite:900:200', 1000), { message: /past the 1000-byte message/ });
  t.throws(() => resolveMutation('truncate:0', 1000, true), { message: /first-half applies to overwrite and pwrite only/ });
});

test('expectations: what the name holds afterwards, and the changed ranges', (t) => {
  const size = 10000;
  const e = mutationFor('truncate').expect(resolveMutation('truncate:6000', size), size);
  t.deepEqual(e.changes, [{ start: 6000, end: size, to: 'zero' }]);
  t.deepEqual([...e.after.subarray(5998, 6002)], [...patternA(6000).subarray(5998), 0, 0]);
  const p = mutationFor('punch-hole').expect(resolveMutation('punch-hole:100:50', size), size);
  t.deepEqual(p.changes, [{ start: 100, end: 150, to: 'zero' }]);
  t.is(p.after[99], patternA(100)[99]);
  t.is(p.after[100], 0);
  const w = mutationFor('pwrite').expect(resolveMutation('pwrite:100:50', size), size);
  t.is(w.after[120], patternB(121)[120]);
  t.is(w.after[150], patternA(151)[150]);
  t.regex(mutationFor('rename-replace').expect(resolveMutation('rename-replace', size), size).note ?? '', /old inode/);
  t.deepEqual(mutationFor('copy-over').expect(resolveMutation('copy-over', size), size).changes, [{ start: 0, end: size, to: 'new' }]);
  const ct = mutationFor('copytruncate').expect(resolveMutation('copytruncate', size), size);
  t.deepEqual(ct.changes, [{ start: 0, end: size, to: 'zero' }]);
});

for (const [where, parent] of [['tmpfs', '/dev/shm'], ['the disk (/var/tmp)', '/var/tmp']] as const) {
  test.serial(`on ${where}, each mutation applied by the sender leaves the name holding its expectation`, async (t) => {
    const dir = mkdtempSync(join(parent, 'zcprobe-mutations-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const { problems, unsupported } = applyEachAndCheck(dir);
    t.deepEqual(problems, []);
    for (const u of unsupported) t.log(`unsupported here: ${u}`);
  });
}

test.serial('the mutator process applies every file mutation through the path alone, to the same result', async (t) => {
  const mutator = await MutatorProcess.spawn();
  const dir = mkdtempSync('/var/tmp/zcprobe-mutations-');
  t.teardown(async () => {
    await mutator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const size = 20000;
  for (const text of SAMPLE_MUTATIONS) {
    const m = resolveMutation(text, size);
    if (mutationUnsupported(m.kind, dir)) continue;
    const source = fileSource(patternA(size), dir, false);
    if (source.kind !== 'file') throw new Error('file source expected');
    try {
      const w = await mutator.mutate({ id: text, path: source.path, dir, mutation: text, size });
      t.is(w.error, undefined, text);
      t.true(w.openedAt >= w.openStartedAt && w.mutatedAt >= w.openedAt, `${text}: times in order`);
      t.is(expectationHolds(readFileSync(source.path), mutationFor(m.kind).expect(m, size), size, m), null, `${text} by the mutator`);
    } finally {
      releaseSource(source);
    }
  }
  const bad = await mutator.mutate({ id: 'overwrite', path: join(dir, 'none'), mutation: 'overwrite', size });
  t.regex(bad.error ?? '', /changes the sender's memory/);
});
