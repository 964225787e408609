// `zcprobe kernels` and `zcprobe compare` with several reports, from the command line: bad
// arguments exit 2 with one line naming the flag (before anything is installed or booted), and
// three reports (or --kernels) give the column-per-kernel view.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleReport } from '../../../test-support/report-fixture.ts';

const BIN = new URL('../../../bin/zcprobe.js', import.meta.url).pathname;
const zcprobe = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

const BAD: [string, string[], RegExp][] = [
  ['no kernel', ['kernels'], /needs at least one --kernel/],
  ['bad suite', ['kernels', '--kernel', 'x', '--suite', 'all'], /--suite: "all" is not one of doctor, smoke, test, report/],
  ['bad accel', ['kernels', '--kernel', 'x', '--accel', 'hvf'], /--accel: "hvf" is not one of auto, kvm, tcg/],
  ['test file without test', ['kernels', '--kernel', 'x', '--test-file', 'properties/write.test.ts'], /--test-file goes with --suite test/],
  ['missing test file', ['kernels', '--kernel', 'x', '--suite', 'test', '--test-file', 'nope.test.ts'], /--test-file nope.test.ts: no such file/],
  ['short limit', ['kernels', '--kernel', 'x', '--time-limit', '3'], /--time-limit must be at least 10 s/],
  ['stray argument', ['kernels', 'linux-image-cloud-amd64'], /unexpected argument "linux-image-cloud-amd64"/],
];

for (const [title, args, message] of BAD) {
  test(`kernels: bad arguments exit 2 with one line — ${title}`, (t) => {
    const r = zcprobe(...args);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1);
  });
}

test('compare: three reports give a column per report; a universal claim contradicted exits 1', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-kernels-compare-'));
  try {
    const a = sampleReport();
    // the same report "under another kernel", where a cell under a universal "holds" claim corrupted
    const holds = a.cells.findIndex((c) => c.safeguard === 'app-ack' || (c.method === 'write' && c.safeguard === 'none'));
    t.true(holds >= 0, 'the fixture has a cell under a universal "holds" claim');
    const b = { ...a, host: { ...a.host, kernel: '6.1.0-57-cloud-amd64' }, cells: a.cells.map((c, i) => (i === holds ? { ...c, verdict: 'corrupted-on-wire' as const, counts: { 'corrupted-on-wire': c.cases } } : c)) };
    const files = ['a', 'b', 'c'].map((n) => join(dir, `${n}.json`));
    writeFileSync(files[0]!, JSON.stringify(a));
    writeFileSync(files[1]!, JSON.stringify(a));
    writeFileSync(files[2]!, JSON.stringify(b));
    const same = zcprobe('compare', '--kernels', files[0]!, files[1]!);
    t.is(same.status, 0, same.stderr);
    t.regex(same.stdout, /0 failure\(s\), 0 finding\(s\)/);
    const r = zcprobe('compare', ...files);
    t.is(r.status, 1, r.stderr);
    const cell = a.cells[holds]!;
    t.regex(r.stdout, new RegExp(`${cell.method} × ${cell.safeguard} × ${cell.transport} .*FAILURE`));
    t.regex(r.stdout, /6\.1\.0-57-cloud-amd64 shows corrupted-on-wire/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
