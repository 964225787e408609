// Plumbing of `zcprobe bench`, not its speed: a tiny run (8 MiB, one round, two methods) must
// give positive figures, the JSON shape and the ratios; bad flags must exit 2. No thresholds.
import test from 'ava';
import { testWithNeeds } from '../../../properties/helpers/requirements.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../cli/args.ts';
import { benchConfigFromFlags, command } from '../../cli/bench.ts';
import { DEFAULT_CONFIG, planCells, type BenchConfig } from './config.ts';
import { summarize, type BenchReport, type Stat } from './report.ts';
import { runBench } from './runner.ts';
import { formatTable } from './table.ts';
import { openBenchTarget } from './target.ts';

const MiB = 1 << 20;
const BIN = fileURLToPath(new URL('../../../bin/zcprobe.js', import.meta.url));

const tiny: BenchConfig = {
  ...DEFAULT_CONFIG,
  sizes: [MiB],
  cSizes: [MiB],
  methods: ['write', 'msg-zerocopy'],
  total: 8 * MiB,
  safeguardTotal: 2 * MiB,
  runs: 1,
  warmupTotal: MiB,
};

let report: Promise<BenchReport> | undefined;
// One bench run shared by the assertions below (ava runs this file's tests serially anyway).
const tinyReport = () => (report ??= runBench(tiny).then(summarize));

const positive = (s: Stat | null): boolean => s !== null && Number.isFinite(s.median) && s.median > 0 && s.min > 0;

// The tiny run includes msg-zerocopy: without MSG_ZEROCOPY those rows are skipped (see planCells).
await testWithNeeds('a tiny run gives positive figures for every row', ['soZerocopy'], async (t) => {
  const rep = await tinyReport();
  const rows = rep.rows.map((r) => `${r.impl}/${r.method}/${r.safeguard}`).sort();
  t.deepEqual(rows, ['c/msg-zerocopy/none', 'c/write/none', 'harness/msg-zerocopy/none', 'harness/msg-zerocopy/zc-completion', 'harness/write/none']);
  for (const r of rep.rows) {
    t.deepEqual(r.errors, [], `${r.impl} ${r.method} ${r.safeguard}`);
    t.is(r.samples.length, 1);
    t.is(r.bytesPerRun, r.safeguard === 'none' ? 8 * MiB : 2 * MiB);
    t.true(positive(r.throughputMBps), `throughput of ${r.impl} ${r.method}`);
    t.true(positive(r.senderCpuMsPerGB), `sender CPU of ${r.impl} ${r.method}`);
    t.true(positive(r.receiverCpuMsPerGB), `receiver CPU of ${r.impl} ${r.method}`);
    if (r.method === 'msg-zerocopy') {
      const f = r.copiedFraction;
      t.true(f !== null && f.median >= 0 && f.median <= 1, 'COPIED fraction in [0, 1]');
      const zc = r.samples[0]!.zc!;
      t.is(zc.received, zc.expected, 'every zero-copy send completed');
    } else {
      t.is(r.copiedFraction, null);
    }
  }
});

await testWithNeeds('ratios: harness/C for plain harness rows, vs write() for every harness row', ['soZerocopy'], async (t) => {
  const rep = await tinyReport();
  for (const r of rep.rows) {
    if (r.impl === 'c') {
      t.is(r.harnessOverC, null);
      t.is(r.vsWrite, null);
      continue;
    }
    t.true(positive(r.vsWrite?.throughput ?? null) && positive(r.vsWrite?.senderCpu ?? null), `${r.method} ${r.safeguard} vs write`);
    if (r.safeguard === 'none') t.true(positive(r.harnessOverC), `${r.method} harness/C`);
    else t.is(r.harnessOverC, null);
  }
  const write = rep.rows.find((r) => r.impl === 'harness' && r.method === 'write')!;
  t.is(write.vsWrite!.throughput!.median, 1);
  t.deepEqual(rep.harnessOverC.map((h) => h.method).sort(), ['msg-zerocopy', 'write']);
});

await testWithNeeds('the JSON report says where and how it was measured', ['soZerocopy'], async (t) => {
  const json = JSON.parse(JSON.stringify(await tinyReport())) as Record<string, unknown> & BenchReport;
  t.is(json.tool, 'zcprobe bench');
  t.is(json.schema, 1);
  t.is(json.transport, 'loopback — not a NIC');
  t.is(typeof json.host.kernel, 'string');
  t.true(json.host.cpus > 0);
  t.like(json.config, { total: 8 * MiB, safeguardTotal: 2 * MiB, runs: 1, sizes: [MiB], transport: 'loopback' });
  t.true(json.elapsedMs > 0);
  t.true(Array.isArray(json.rows) && json.rows.every((r) => Array.isArray(r.samples)));
  t.deepEqual(json.skipped, []);
  const table = formatTable(json);
  t.regex(table, /harness\/C throughput/);
  t.regex(table, /cost of safety/);
  t.regex(table, /elapsed \d+\.\d s/);
});

test('flags: defaults, lists, and usage errors that name the flag', (t) => {
  const fromFlags = (argv: string[]) => benchConfigFromFlags(command.parse(argv).flags);
  t.regex(command.help(), /^usage: zcprobe bench \[flags\]/);
  const d = fromFlags([]);
  t.deepEqual(d.cfg.sizes, [64 * 1024, MiB, 16 * MiB]);
  t.false(d.json);
  const c = fromFlags(['--sizes', '64KiB,1MiB', '--methods=write,splice', '--total', '64MiB', '--runs', '2', '--c-sizes', 'none', '--json']);
  t.like(c.cfg, { sizes: [64 * 1024, MiB], methods: ['write', 'splice'], total: 64 * MiB, runs: 2, cSizes: [] });
  t.true(c.json);
  const bad: [string[], RegExp][] = [
    [['--sizes', '1MiB,lots'], /^--sizes: /],
    [['--methods', 'write,carrier-pigeon'], /^--methods: /],
    [['--runs', '0'], /^--runs: /],
    [['--total', '-1'], /^--total: /],
    [['--c-sizes', '64KiB', '--sizes', '1MiB'], /^--c-sizes: /],
    [['--transport', 'wifi'], /^--transport: /],
    [['--bogus'], /unknown flag --bogus/],
  ];
  for (const [argv, message] of bad) t.throws(() => fromFlags(argv), { instanceOf: UsageError, message }, argv.join(' '));
});

test('zcprobe bench --bogus exits 2 with one line naming the flag', (t) => {
  const r = spawnSync(process.execPath, [BIN, 'bench', '--bogus'], { encoding: 'utf8', timeout: 60000 });
  t.is(r.status, 2);
  t.is(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1);
  t.regex(lines[0]!, /^zcprobe bench: unknown flag --bogus/);
});

test('planCells skips a method this host cannot run, with the reason, for both implementations', (t) => {
  const caps = { harnessUring: null, cUring: 'zcbench built without liburing', zerocopy: 'MSG_ZEROCOPY: setsockopt SO_ZEROCOPY: ENOPROTOOPT' };
  const { cells, skipped } = planCells({ ...tiny, methods: ['write', 'msg-zerocopy', 'io-uring-zc'] }, caps);
  t.false(cells.some((c) => c.method === 'msg-zerocopy'), 'no msg-zerocopy row at all');
  t.deepEqual(cells.filter((c) => c.method === 'io-uring-zc').map((c) => `${c.impl}/${c.safeguard}`), ['harness/none', 'harness/zc-completion']);
  t.deepEqual(skipped, [
    { impl: 'harness', method: 'msg-zerocopy', reason: caps.zerocopy },
    { impl: 'c', method: 'msg-zerocopy', reason: caps.zerocopy },
    { impl: 'c', method: 'io-uring-zc', reason: caps.cUring },
  ]);
});

// Over tun the senders run in the sender's namespace (harness socket and C sender) and every row
// carries the relay's packets/s and CPU; the table grows the two link columns.
await testWithNeeds(test, 'tun: both senders cross the relay; rows carry link packets/s and relay CPU', ['root', 'tun'], async (t) => {
  const opened = await openBenchTarget('tun', 4);
  try {
    const rep = summarize(await runBench({ ...tiny, safeguardTotal: 0, target: opened.target }, () => undefined, opened.link));
    t.deepEqual(rep.rows.map((r) => `${r.impl}/${r.method}`).sort(), ['c/msg-zerocopy', 'c/write', 'harness/msg-zerocopy', 'harness/write']);
    for (const r of rep.rows) {
      t.deepEqual(r.errors, [], `${r.impl} ${r.method}`);
      t.true(positive(r.linkPacketsPerSec) && positive(r.relayCpuMsPerGB), `${r.impl} ${r.method}: relay figures`);
      // 8 MiB in packets of at most the MTU: at least that many packets crossed the relay.
      t.true(r.samples[0]!.link!.s2rPackets >= (8 * MiB) / 9000, `${r.samples[0]!.link!.s2rPackets} packets`);
    }
    t.regex(formatTable(rep), /link kpkt\/s +relay CPU ms\/GB/);
    t.regex(rep.transport, /^tun /);
  } finally {
    await opened.close();
  }
});
