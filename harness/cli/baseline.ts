// zcprobe baseline write: runs the observing suites and writes baselines/<major.minor>-<transport>.json (rates,
// model/baselines.ts) from what they recorded on this kernel; show prints them; migrate rewrites first-format files as rates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { baselineFrom, baselinePath, describeRate, parseBaseline, readBaseline, writeBaseline } from '../model/baselines.ts';
import type { BaselineEntry } from '../model/baselines.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { defineCommand } from './command.ts';

/** The property files that record observations (t-observe.ts); a new one is added here. */
export const OBSERVING_FILES = [
  'properties/msg-zerocopy.test.ts',
  'properties/io-uring-zc.test.ts',
  'properties/safeguard-siocoutq.test.ts',
  'properties/lease.test.ts',
  'properties/mmap-write.test.ts',
  'properties/sendfile.test.ts',
  'properties/splice.test.ts',
  'properties/veth.test.ts',
  'properties/wire-evidence.test.ts',
  'properties/fs-tmpfs.test.ts',
  'properties/fs-ext4.test.ts',
  'properties/fs-xfs.test.ts',
  'properties/fs-btrfs.test.ts',
  'properties/tun.test.ts',
  'properties/servers.test.ts',
];

const OPTIONS = {
  from: { type: 'string', value: '<file>', help: 'write from observations a test run already recorded (npm test writes captures/observations/<uname -r>.jsonl) instead of running the suites' },
} satisfies FlagSpecs;

export const command = defineCommand({
  name: 'baseline',
  usage: 'write [--from FILE] | show | migrate FILE...',
  about: [
    '  write    run the observing suites on this kernel (or read what a test run recorded, --from) and',
    '           write baselines/<major.minor>-<transport>.json',
    '  show     print the baselines for this kernel (each observation a rate: seen/runs, 95 % interval)',
    '  migrate  rewrite baseline files of the first format (one outcome each) as rates, in place',
  ].join('\n'),
  options: OPTIONS,
  positionals: true,
  run(flags, positional) {
    const [what, ...extra] = positional;
    if (what === 'migrate') return migrate(extra);
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (what === 'show') return show();
    if (what === 'write') return flags.from === undefined ? write() : writeFrom(flags.from);
    throw new UsageError(`the first argument must be write, show or migrate, got ${what === undefined ? 'nothing' : `"${what}"`}`);
  },
});

function show(): number {
  for (const transport of ['loopback', 'veth', 'tun', 'remote']) {
    const b = readBaseline(transport);
    const from = (m: BaselineEntry['migratedFrom']) => (m ? ` — converted from "${m.outcome}"${m.single ? ' (single)' : ''}` : '');
    const row = ([id, o]: [string, BaselineEntry]) => `  ${id}: ${describeRate(o)}${from(o.migratedFrom)}`;
    const where = baselinePath(transport);
    const rows = b ? Object.entries(b.observations).map(row).join('\n') : '';
    process.stdout.write(b ? `${where} (${b.kernel}, ${b.writtenAt}):\n${rows}\n` : `${where}: none\n`);
  }
  return 0;
}

/** Every transport's baseline from one JSON-lines file of recorded observations. */
function writeBaselines(lines: string): number {
  const transports = [...new Set(lines.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { transport: string }).transport))];
  if (!transports.length) {
    process.stderr.write('zcprobe baseline: no observation recorded; no baseline written\n');
    return 1;
  }
  for (const transport of transports) {
    const b = baselineFrom(lines, transport);
    process.stdout.write(`${writeBaseline(b)}: ${Object.keys(b.observations).length} observations\n`);
  }
  return 0;
}

/** Each file rewritten in the rate format (a file already in it is left as it is). */
function migrate(files: string[]): number {
  if (!files.length) throw new UsageError('migrate needs the baseline files to rewrite');
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`migrate: cannot read ${file}: ${(e as Error).message}`);
    }
    if ((JSON.parse(text) as { format?: unknown }).format === 2) {
      process.stdout.write(`${file}: already rates\n`);
      continue;
    }
    const b = parseBaseline(text, file);
    const sorted = Object.fromEntries(Object.entries(b.observations).sort(([a], [c]) => a.localeCompare(c)));
    writeFileSync(file, `${JSON.stringify({ ...b, observations: sorted }, null, 2)}\n`);
    const single = Object.values(b.observations).filter((o) => o.migratedFrom?.single).length;
    const n = Object.keys(b.observations).length;
    process.stdout.write(`${file}: ${n} observations as rates (${single} from a single outcome: 1 or 0 of 1)\n`);
  }
  return 0;
}

function writeFrom(file: string): number {
  let lines: string;
  try {
    lines = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--from: cannot read ${file}: ${(e as Error).message}`);
  }
  return writeBaselines(lines);
}

function write(): number {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-observations-'));
  const file = join(dir, 'observations.jsonl');
  try {
    const root = resolve(import.meta.dirname, '..', '..');
    process.stderr.write(`zcprobe baseline: running ${OBSERVING_FILES.length} observing suites on ${release()} (a few minutes)\n`);
    const r = spawnSync('npx', ['ava', ...OBSERVING_FILES], { cwd: root, stdio: 'inherit', env: { ...process.env, ZCPROBE_OBSERVATIONS_FILE: file, ZCPROBE_STRICT: '' } });
    if (r.status !== 0) {
      process.stderr.write(`zcprobe baseline: the suites failed (exit ${r.status}); no baseline written\n`);
      return 1;
    }
    let lines = '';
    try {
      lines = readFileSync(file, 'utf8');
    } catch {
      process.stderr.write('zcprobe baseline: the suites recorded no observation (were they all skipped?); no baseline written\n');
      return 1;
    }
    return writeBaselines(lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
