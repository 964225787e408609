// Feature probes and `zcprobe doctor`. All tests are serial so the leftover check runs last, after
// this process and the doctor children have run every probe.
import test, { type TestFn } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { missingNeeds, needReason, testWithNeeds, type Need } from '../../properties/helpers/requirements.ts';
import { formatProbeLine } from '../cli/doctor.ts';
import { fsLeftovers } from './fs/leftovers.ts';
import { native } from '../native.ts';
import { PROBE_NAMES, PROBE_PREFIX, probe, runAllProbes, sendZcOnce, SUITE_NEEDS } from './probes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const isRoot = process.geteuid?.() === 0;
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
const childPids: number[] = [process.pid];

function doctor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/zcprobe.js', 'doctor', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  childPids.push(r.pid);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('every probe returns { name, ok, detail, fix? } with a one-line detail, in PROBE_NAMES order', async (t) => {
  const probes = await runAllProbes();
  t.deepEqual(probes.map((p) => p.name), [...PROBE_NAMES]);
  for (const p of probes) {
    t.deepEqual(Object.keys(p).filter((k) => !['name', 'ok', 'detail', 'fix'].includes(k)), [], `${p.name}: no extra keys`);
    t.is(typeof p.ok, 'boolean', p.name);
    t.true(typeof p.detail === 'string' && p.detail.length > 0 && !p.detail.includes('\n'), `${p.name}: one-line detail`);
    if (p.fix !== undefined) t.true(typeof p.fix === 'string' && p.fix.length > 0 && !p.fix.includes('\n'), `${p.name}: one-line fix`);
    if (!p.ok) t.truthy(p.fix ?? p.detail, `${p.name}: says why`);
  }
});

test.serial('probe(name) is memoized per process and agrees with runAllProbes', async (t) => {
  const all = await runAllProbes();
  for (const p of all) t.is(await probe(p.name), p, `${p.name}: same result object`);
  t.deepEqual(await runAllProbes(), all);
  await t.throwsAsync(probe('nope' as never), { message: /unknown probe "nope"/ });
  await t.throwsAsync(probe('toString' as never), { message: /unknown probe/ });
});

for (const name of PROBE_NAMES) {
  // On a root host every feature is expected; a failure here names what is missing and the fix.
  (isRoot ? test.serial : test.skip)(`probe ${name} is ok on this host (as root)${isRoot ? '' : ' [skipped: needs root]'}`, async (t) => {
    const p = await probe(name);
    t.true(p.ok, formatProbeLine(p));
  });
}

test.serial('missingNeeds: null when met, else one line "needs X: detail (fix)"', async (t) => {
  t.is(await missingNeeds([]), null);
  const root = await probe('root');
  t.is(await missingNeeds(['root']), root.ok ? null : needReason(root));
  t.is(needReason({ name: 'tcpdump', ok: false, detail: 'not found', fix: 'apt-get install tcpdump' }),
    'needs tcpdump: not found (apt-get install tcpdump)');
  t.is(needReason({ name: 'netns', ok: false, detail: 'network namespaces need root' }), 'needs netns: network namespaces need root');
});

test.serial('doctor formats "status  name  detail — fix: ..." lines', (t) => {
  t.is(formatProbeLine({ name: 'tcpdump', ok: true, detail: 'captures on lo (tcpdump 4.99.3)' }),
    'ok       tcpdump          captures on lo (tcpdump 4.99.3)');
  t.is(formatProbeLine({ name: 'ioUringSendZc', ok: false, detail: 'io_uring disabled by kernel.io_uring_disabled=2', fix: 'sysctl kernel.io_uring_disabled=0' }),
    'missing  ioUringSendZc    io_uring disabled by kernel.io_uring_disabled=2 — fix: sysctl kernel.io_uring_disabled=0');
});

test.serial('zcprobe doctor prints one line per probe and exits 0 when the suite can run', async (t) => {
  const r = doctor();
  const lines = r.stdout.trimEnd().split('\n');
  t.deepEqual(lines.map((l) => l.split(/\s+/)[1]), [...PROBE_NAMES], r.stdout);
  for (const l of lines) t.regex(l, /^(ok|missing) +\S+ +\S/);
  // As root on this host everything is expected; elsewhere the exit code must match the probes.
  const suiteOk = (await runAllProbes()).every((p) => p.ok || !SUITE_NEEDS.includes(p.name));
  t.is(r.status, isRoot || suiteOk ? 0 : 1, r.stdout + r.stderr);
});

test.serial('zcprobe doctor --json prints the probe list', (t) => {
  const r = doctor('--json');
  const list = JSON.parse(r.stdout) as { name: string; ok: boolean; detail: string }[];
  t.deepEqual(list.map((p) => p.name), [...PROBE_NAMES]);
  t.true(list.every((p) => typeof p.ok === 'boolean' && typeof p.detail === 'string'));
});

test.serial('zcprobe doctor --bogus exits 2 with one line on stderr naming the flag', (t) => {
  const r = doctor('--bogus');
  t.is(r.status, 2);
  t.is(r.stdout, '');
  t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /--bogus/);
});

// Declared through the helper itself: runs here as root, shows "[skipped: needs root: ...]" elsewhere.
await testWithNeeds('testWithNeeds declares a runnable test when its needs are met', ['root', 'soZerocopy'], async (t) => {
  // This body runs only if the test was declared runnable: the probes must say the needs are met,
  // and the title must be the plain one, without a skip reason.
  t.is(await missingNeeds(['root', 'soZerocopy']), null);
  t.is(t.title, 'testWithNeeds declares a runnable test when its needs are met');
});

test.serial('testWithNeeds declares test() when needs are met and test.skip() with the reason in the title otherwise', async (t) => {
  const declared: [string, string][] = [];
  const stand = Object.assign((title: string) => void declared.push(['test', title]), {
    skip: (title: string) => void declared.push(['skip', title]),
  }) as unknown as TestFn;
  await testWithNeeds(stand, 'needs nothing', [], () => undefined);
  await testWithNeeds(stand, 'needs what no probe knows', ['nope' as Need], () => undefined);
  t.deepEqual(declared, [
    ['test', 'needs nothing'],
    ['skip', 'needs what no probe knows [skipped: needs nope: unknown requirement]'],
  ]);
});

await testWithNeeds('the io_uring probe works on kernels that refuse a SEND_ZC flag (as 6.0/6.1 refuse REPORT_USAGE)', ['ioUringSendZc'], (t) => {
  const ring = native.uringCreate(4);
  try {
    // Bit 15 is a SEND_ZC flag no kernel knows: refused, retried without, and SEND_ZC still works.
    t.deepEqual(sendZcOnce(ring, native.uringSendZcReportUsage | 0x8000), { flagsRefused: true });
    t.deepEqual(sendZcOnce(ring, 0), { flagsRefused: false });
  } finally {
    native.uringClose(ring);
  }
});

function probeTcpdumps(): string[] {
  // Only tcpdumps started by probes (their capture file carries PROBE_PREFIX): other zcprobe
  // sessions on this host may legitimately be capturing right now.
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('tcpdump')) && argv.some((a) => a.includes(PROBE_PREFIX)) ? [`${pid}: ${argv.join(' ')}`] : [];
    } catch {
      return []; // exited while we looked
    }
  });
}

test.serial('probes leave no network namespace, tcpdump process or file behind', (t) => {
  if (isRoot) {
    const ns = spawnSync('ip', ['netns', 'list'], { env: ENV, encoding: 'utf8' });
    t.is(ns.status, 0, ns.stderr);
    t.deepEqual(ns.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(PROBE_PREFIX)), []);
  }
  t.deepEqual(probeTcpdumps(), []);
  const ours = (f: string) => childPids.some((pid) => f.startsWith(`${PROBE_PREFIX}${pid}-`));
  for (const dir of [tmpdir(), '/dev/shm'].filter(existsSync)) t.deepEqual(readdirSync(dir).filter(ours), [], dir);
  t.deepEqual(fsLeftovers(childPids), { mounts: [], loopDevices: [], dirs: [] }, 'filesystem probes leave no mount, loop device or image');
});
