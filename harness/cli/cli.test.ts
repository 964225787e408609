// The command line: every subcommand answers a bad argument with one line naming it and exit 2;
// `run --json` has the documented fields; `--no-capture` says so; a real small report validates
// against the schema, compares with itself as "no change", and its counterexample replays.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateReport } from '../report/validate.ts';
import { ajvReportErrors } from '../../test-support/report-schema-oracle.ts';
import { testWithNeeds } from '../../properties/helpers/requirements.ts';

const BIN = new URL('../../bin/zcprobe.js', import.meta.url).pathname;

function zcprobe(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BAD: [string, string[], RegExp][] = [
  ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ['run: bad method', ['run', '--method', 'bogus'], /--method: "bogus" is not one of write, /],
  ['run: missing method', ['run'], /--method is required/],
  ['run: bad size', ['run', '--method', 'write', '--size', '12QB'], /--size: not a size/],
  ['run: impossible mutation', ['run', '--method', 'write', '--mutation', 'pwrite'], /--mutation: mutation pwrite needs a file-backed method/],
  ['run: unknown flag', ['run', '--method', 'write', '--bogus'], /unknown flag --bogus/],
  ['run: flag without its value', ['run', '--method'], /--method needs a value <method>/],
  ['run: boolean flag given a value', ['run', '--method', 'write', '--json=yes'], /--json takes no value/],
  ['run: rate without veth', ['run', '--method', 'write', '--rate', '100mbit'], /--rate needs --transport veth/],
  ['run: bad replay', ['run', '--replay', 'nope'], /--replay: replay must look like/],
  ['run: unknown filesystem', ['run', '--method', 'sendfile', '--fs', 'zfs'], /--fs: "zfs" is not one of tmpfs, ext4, xfs, btrfs, dir:PATH/],
  ['run: --fs for a memory method', ['run', '--method', 'vmsplice', '--fs', 'ext4'], /--fs: method vmsplice sends from memory/],
  ['run: mutation range past the message', ['run', '--method', 'sendfile', '--size', '1000', '--mutation', 'punch-hole:900:200'], /--mutation: punch-hole:900:200: the range ends at 1100, past the 1000-byte message/],
  ['run: unknown mutation', ['run', '--method', 'sendfile', '--mutation', 'shred'], /--mutation: "shred" is not one of overwrite, pwrite/],
  ['report: bad fs', ['report', '--fs', 'zfs'], /--fs: "zfs" is not one of tmpfs, ext4, xfs, btrfs/],
  ['report: bad repeats', ['report', '--repeats', 'x'], /--repeats: "x" is not a non-negative integer/],
  ['report: bad method', ['report', '--method', 'bogus'], /--method: "bogus" is not one of/],
  ['matrix: bad transport', ['matrix', '--transport', 'wifi'], /"wifi" is not one of loopback, veth/],
  ['replay: no arguments', ['replay'], /needs <report.json> <case-id>/],
  ['compare: one file', ['compare', 'a.json'], /needs exactly two report.json paths/],
  ['compare: missing files', ['compare', '/nonexistent/a.json', '/nonexistent/b.json'], /cannot read \/nonexistent\/a.json/],
  ['doctor: unknown flag', ['doctor', '--bogus'], /unknown flag --bogus/],
  ['bench: unknown flag', ['bench', '--bogus'], /--bogus/],
];

for (const [title, args, message] of BAD) {
  test(`bad arguments exit 2 with one line — ${title}`, (t) => {
    const r = zcprobe(...args);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, 'exactly one line');
  });
}

await testWithNeeds(test, 'run --json has the documented fields; --no-capture keeps the two-stream verdict and says so', ['root', 'tcpdump'], (t) => {
  const r = zcprobe('run', '--method', 'vmsplice', '--size', '64KiB', '--receiver-delay-ms', '20', '--repeat', '2', '--json');
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 2);
  for (const c of lines) {
    for (const k of ['method', 'size', 'safeguard', 'transport', 'kernel', 'verdict']) t.true(k in c, k);
    t.is(typeof c.received.mismatchedBytes, 'number');
    t.is(c.wire.capture, 'captured');
    t.is(typeof c.wire.mismatchedBytes, 'number');
  }
  const off = JSON.parse(zcprobe('run', '--method', 'write', '--size', '4KiB', '--no-capture', '--json').stdout);
  // "says so": no wire stream in the report; "keeps the two-stream verdict": write() copies, so
  // intended vs received alone decides, and it is clean (a universal claim, not this kernel's).
  t.deepEqual(off.wire, { capture: 'off' });
  t.is(off.verdict, 'clean', JSON.stringify(off.reasons));
  t.is(off.received.mismatchedBytes, 0);
  t.is(off.received.lengthDelta, 0);
});

await testWithNeeds(test, 'a real report validates, compares with itself as "no change", and its counterexample replays', ['root', 'tcpdump'], (t) => {
  const out = mkdtempSync(join(tmpdir(), 'zcprobe-report-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const r = zcprobe('report', '--repeats', '1', '--transport', 'loopback', '--method', 'write', '--method', 'sendfile', '--cost-total', '0', '--out', out);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /report: .*report\.html/);
  const json = join(out, 'report.json');
  const report = JSON.parse(readFileSync(json, 'utf8'));
  t.deepEqual(validateReport(report), []);
  t.deepEqual(ajvReportErrors(report), [], 'ajv (draft 2020-12) agrees: the report matches the schema');
  t.true(report.counterexamples.length > 0, 'sendfile × none yields a counterexample');
  const same = zcprobe('compare', json, json);
  t.is(same.status, 0);
  t.regex(same.stdout, /no change/);
  const cx = report.counterexamples[0];
  const again = zcprobe('replay', json, cx.caseId, '--repeat', '1');
  t.is(again.status, 0, again.stderr);
  t.regex(again.stdout, /on record: /);
});
