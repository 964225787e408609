// zcprobe bench: throughput and CPU cost of each send method (and of each safeguard) over
// loopback, harness and C reference side by side. A script that prints figures, not a test.
import { formatSize, parseSize } from '../model/experiment.ts';
import { BENCH_METHODS, BENCH_TRANSPORTS, DEFAULT_CONFIG, loopbackTarget, type BenchConfig, type BenchMethod, type BenchTransport } from '../suites/bench/config.ts';
import { openBenchTarget } from '../suites/bench/target.ts';
import { summarize } from '../suites/bench/report.ts';
import { runBench } from '../suites/bench/runner.ts';
import { formatSideBySide, formatTable } from '../suites/bench/table.ts';
import { flagValue, listFlag, nonNegativeInt, oneOf, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

const D = DEFAULT_CONFIG;
const MAX_MESSAGE = 256 << 20;

const OPTIONS = {
  sizes: { type: 'string', value: '<size,...>', help: `message sizes (default ${D.sizes.map(formatSize).join(',')})` },
  methods: { type: 'string', value: '<method,...>', help: `send methods (default all: ${BENCH_METHODS.join(',')})` },
  total: { type: 'string', value: '<size>', help: `bytes per plain run (default ${formatSize(D.total)})` },
  'safeguard-total': { type: 'string', value: '<size>', help: `bytes per safeguard run, 0 = no safeguard rows (default ${formatSize(D.safeguardTotal)})` },
  runs: { type: 'string', value: '<n>', help: `rounds; figures are medians over them (default ${D.runs})` },
  'c-sizes': { type: 'string', value: '<size,...>|none', help: `sizes (of --sizes) at which the C reference runs too (default ${D.cSizes.map(formatSize).join(',')})` },
  'pipe-size': { type: 'string', value: '<size>', help: `pipe capacity for splice/vmsplice (default ${formatSize(D.pipeSize)})` },
  'poll-interval-ms': { type: 'string', value: '<ms>', help: `siocoutq poll interval, 0 = spin (default ${D.pollIntervalMs})` },
  transport: { type: 'string', multiple: true, value: '<name>', help: `${BENCH_TRANSPORTS.join(', ')}; repeatable: one table each, then MB/s side by side (default loopback)` },
  family: { type: 'string', value: '4|6', help: 'IP version (default 4)' },
  json: { type: 'boolean', help: 'print the JSON report on stdout (the table goes to stderr)' },
} satisfies FlagSpecs;

function list<T>(parse: (v: string) => T): (v: string) => T[] {
  return (text) => {
    const items = text.split(',').map((s) => s.trim());
    if (items.some((s) => !s)) throw new Error(`empty item in "${text}"`);
    return [...new Set(items.map(parse))];
  };
}

function messageSize(v: string): number {
  const n = parseSize(v);
  if (n < 1 || n > MAX_MESSAGE) throw new Error(`message size must be from 1 B to ${formatSize(MAX_MESSAGE)}, got "${v}"`);
  return n;
}

function positive(parse: (v: string) => number): (v: string) => number {
  return (v) => {
    const n = parse(v);
    if (n < 1) throw new Error(`"${v}" must be at least 1`);
    return n;
  };
}

/** The bench configuration the flags ask for. Bad flags throw UsageError. */
export function benchConfigFromFlags(flags: FlagValues<typeof OPTIONS>): { cfg: BenchConfig; json: boolean; transports: BenchTransport[] } {
  const transports = flags.transport === undefined ? (['loopback'] as BenchTransport[]) : [...new Set(listFlag(flags, 'transport', BENCH_TRANSPORTS))];
  const family = flagValue(flags, 'family', (v) => Number(oneOf(['4', '6'] as const)(v)) as 4 | 6) ?? 4;
  const pipeSize = flagValue(flags, 'pipe-size', parseSize) ?? D.pipeSize;
  if (pipeSize < 4096 || pipeSize > MAX_MESSAGE) throw new UsageError(`--pipe-size: must be from 4KiB to ${formatSize(MAX_MESSAGE)}`);
  const pollIntervalMs = flagValue(flags, 'poll-interval-ms', nonNegativeInt) ?? D.pollIntervalMs;
  const sizes = flagValue(flags, 'sizes', list(messageSize)) ?? D.sizes;
  const cSizes = flagValue(flags, 'c-sizes', (v) => (v === 'none' ? [] : list(messageSize)(v))) ?? D.cSizes.filter((s) => sizes.includes(s));
  const stray = cSizes.find((s) => !sizes.includes(s));
  if (stray !== undefined) throw new UsageError(`--c-sizes: ${formatSize(stray)} is not one of --sizes ${sizes.map(formatSize).join(',')}`);
  const cfg: BenchConfig = {
    ...D,
    sizes,
    cSizes,
    methods: flagValue(flags, 'methods', list<BenchMethod>(oneOf(BENCH_METHODS))) ?? D.methods,
    total: flagValue(flags, 'total', positive(parseSize)) ?? D.total,
    safeguardTotal: flagValue(flags, 'safeguard-total', parseSize) ?? D.safeguardTotal,
    runs: flagValue(flags, 'runs', positive(nonNegativeInt)) ?? D.runs,
    pipeSize,
    pollIntervalMs,
    target: loopbackTarget(family),
  };
  return { cfg, json: Boolean(flags.json), transports };
}

export const command = defineCommand({
  name: 'bench',
  usage: '[flags]   (prints figures; takes a few minutes with the defaults)',
  options: OPTIONS,
  run: (flags) => bench(benchConfigFromFlags(flags)),
});

async function bench({ cfg, json, transports }: ReturnType<typeof benchConfigFromFlags>): Promise<number> {
  const progress = (line: string) => process.stderr.write(`zcprobe bench: ${line}\n`);
  const reports = [];
  for (const transport of transports) {
    const opened = await openBenchTarget(transport, cfg.target.family);
    try {
      progress(`transport ${opened.target.description}`);
      const report = summarize(await runBench({ ...cfg, target: opened.target }, progress, opened.link));
      reports.push(report);
      // --json: JSON on stdout for machines, the same table on stderr for the person watching.
      (json ? process.stderr : process.stdout).write(formatTable(report));
      progress(`elapsed ${(report.elapsedMs / 1000).toFixed(1)} s`);
    } finally {
      await opened.close();
    }
  }
  if (reports.length > 1) (json ? process.stderr : process.stdout).write(formatSideBySide(reports));
  // One transport: the report object, as before; several: an array of them.
  if (json) process.stdout.write(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
  const failed = reports.reduce((n, rep) => n + rep.rows.reduce((k, r) => k + r.errors.length, 0), 0);
  // Figures with holes are still printed; the exit status says some runs failed.
  return failed ? 1 : 0;
}
