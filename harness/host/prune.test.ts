// zcprobe prune: which runs go (--keep N, --older-than D), that a run in progress never does, and
// the command's usage errors. Works on a temporary captures directory.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listRunDirs, parseAge, selectForPruning } from './prune.ts';

const ZCPROBE = fileURLToPath(new URL('../../bin/zcprobe.js', import.meta.url));
const run = promisify(execFile);
const DAY = 86_400_000;

/** captures/ with four finished runs (1, 2, 3, 10 days old) and one of this live process. */
function fixture(t: { teardown(fn: () => void): void }): { dir: string; names: string[]; live: string } {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-prune-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const names: string[] = [];
  for (const [i, ageDays] of [1, 2, 3, 10].entries()) {
    const name = `2026-01-0${i + 1}T00-00-00-000-${4_194_305 + i}`; // above the largest pid_max (2^22): never alive
    mkdirSync(join(dir, name, 'case-1'), { recursive: true });
    writeFileSync(join(dir, name, 'case-1', 'case.pcap'), Buffer.alloc(10_000 * (i + 1)));
    const when = new Date(Date.now() - ageDays * DAY);
    utimesSync(join(dir, name), when, when);
    names.push(name);
  }
  const live = `2026-01-09T00-00-00-000-${process.pid}`;
  mkdirSync(join(dir, live));
  const old = new Date(Date.now() - 30 * DAY);
  utimesSync(join(dir, live), old, old); // old-looking, yet its owner runs: never pruned
  writeFileSync(join(dir, 'README.txt'), 'not a run');
  return { dir, names, live };
}

test('listRunDirs: newest first, sizes, the live run marked', (t) => {
  const { dir, names, live } = fixture(t);
  const runs = listRunDirs(dir);
  t.deepEqual(runs.map((r) => r.name), [...names, live]);
  t.true(runs.find((r) => r.name === live)!.live);
  t.false(runs.some((r) => r.name !== live && r.live));
  t.true(runs[3]!.bytes >= 40_000, 'sizes are allocated bytes');
});

test('selectForPruning: --keep N keeps the newest N finished runs; --older-than by last write; never a live run', (t) => {
  const { dir, names } = fixture(t);
  const runs = listRunDirs(dir);
  t.deepEqual(selectForPruning(runs, { keep: 1 }).map((r) => r.name), names.slice(1));
  t.deepEqual(selectForPruning(runs, { keep: 0 }).map((r) => r.name), names);
  t.deepEqual(selectForPruning(runs, { keep: 10 }), []);
  t.deepEqual(selectForPruning(runs, { olderThanMs: parseAge('2.5d') }).map((r) => r.name), names.slice(2));
  t.deepEqual(selectForPruning(runs, { olderThanMs: parseAge('1w') }).map((r) => r.name), names.slice(3));
});

test('parseAge', (t) => {
  t.is(parseAge('90s'), 90_000);
  t.is(parseAge('30m'), 1_800_000);
  t.is(parseAge('12h'), 43_200_000);
  for (const bad of ['7', 'd', '-1d', '1y', '']) t.throws(() => parseAge(bad), { message: /not an age/ });
});

test('zcprobe prune deletes, reports the disk freed, and --dry-run only lists', async (t) => {
  const { dir, names, live } = fixture(t);
  const dry = await run(process.execPath, [ZCPROBE, 'prune', '--dir', dir, '--keep', '2', '--dry-run']);
  t.regex(dry.stdout, new RegExp(`would delete ${names[2]} `));
  t.is(readdirSync(dir).length, 6, 'nothing deleted by --dry-run');
  const r = await run(process.execPath, [ZCPROBE, 'prune', '--dir', dir, '--keep', '2']);
  t.regex(r.stdout, /^deleted .*\n^deleted .*\n^freed \d+(\.\d)? kB; .* keeps 3 runs, .* \(1 still running, never pruned\)$/m);
  t.false(existsSync(join(dir, names[2]!)) || existsSync(join(dir, names[3]!)));
  t.true(existsSync(join(dir, names[0]!)) && existsSync(join(dir, live)) && existsSync(join(dir, 'README.txt')));
});

test('zcprobe prune usage errors exit 2 with one line', async (t) => {
  for (const args of [[], ['--keep', '1', '--older-than', '1d'], ['--keep', 'x'], ['--older-than', 'soon'], ['--bogus']]) {
    const e = await t.throwsAsync<Error & { code: number; stderr: string }>(run(process.execPath, [ZCPROBE, 'prune', ...args]));
    t.is(e?.code, 2, args.join(' '));
    t.is(e?.stderr.trim().split('\n').length, 1, e?.stderr);
  }
});
