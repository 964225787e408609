// zcprobe prune: deletes old evidence runs under captures/ and says how much disk it freed.
import { rmSync } from 'node:fs';
import { formatBytes } from '../host/disk.ts';
import { listRunDirs, parseAge, selectForPruning, type PrunePolicy } from '../host/prune.ts';
import { CAPTURES_DIR } from '../session/session.ts';
import { flagValue, helpText, nonNegativeInt, parseFlags, UsageError, type FlagSpec } from './args.ts';

const SPEC: Record<string, FlagSpec> = {
  keep: { value: '<n>', help: 'keep the newest n runs, delete the others' },
  'older-than': { value: '<age>', help: 'delete runs last written more than <age> ago (e.g. 7d, 12h, 30m)' },
  dir: { value: '<dir>', help: `the captures directory (default ${CAPTURES_DIR})` },
  'dry-run': { boolean: true, help: 'only list what would be deleted' },
  help: { boolean: true, help: 'this help' },
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, SPEC);
  if (flags.help) {
    process.stdout.write(helpText('usage: zcprobe prune (--keep <n> | --older-than <age>) [--dry-run]', SPEC));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const keep = flagValue(flags, 'keep', nonNegativeInt);
  const age = flagValue(flags, 'older-than', parseAge);
  if ((keep === undefined) === (age === undefined)) throw new UsageError('give exactly one of --keep <n> or --older-than <age>');
  const policy: PrunePolicy = keep !== undefined ? { keep } : { olderThanMs: age! };
  const dir = (flags.dir as string | undefined) ?? CAPTURES_DIR;
  const runs = listRunDirs(dir);
  const doomed = selectForPruning(runs, policy);
  const dry = Boolean(flags['dry-run']);
  let freed = 0;
  for (const r of doomed) {
    if (!dry) rmSync(r.path, { recursive: true, force: true });
    freed += r.bytes;
    process.stdout.write(`${dry ? 'would delete' : 'deleted'} ${r.name} (${formatBytes(r.bytes)})\n`);
  }
  const left = runs.filter((r) => !doomed.includes(r));
  const live = left.filter((r) => r.live).length;
  const leftBytes = left.reduce((n, r) => n + r.bytes, 0);
  process.stdout.write(`${dry ? 'would free' : 'freed'} ${formatBytes(freed)}; ${dir} keeps ${left.length} runs, ${formatBytes(leftBytes)}` +
    `${live ? ` (${live} still running, never pruned)` : ''}\n`);
  return 0;
}
