// zcprobe prune: deletes old evidence runs under captures/ and says how much disk it freed.
import { rmSync } from 'node:fs';
import { formatBytes } from '../host/disk.ts';
import { listRunDirs, parseAge, selectForPruning, type PrunePolicy } from '../host/prune.ts';
import { CAPTURES_DIR } from '../session/session.ts';
import { flagValue, nonNegativeInt, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

const OPTIONS = {
  keep: { type: 'string', value: '<n>', help: 'keep the newest n runs, delete the others' },
  'older-than': { type: 'string', value: '<age>', help: 'delete runs last written more than <age> ago (e.g. 7d, 12h, 30m)' },
  dir: { type: 'string', value: '<dir>', help: `the captures directory (default ${CAPTURES_DIR})` },
  'dry-run': { type: 'boolean', help: 'only list what would be deleted' },
} satisfies FlagSpecs;

export const command = defineCommand({
  name: 'prune',
  usage: '(--keep <n> | --older-than <age>) [--dry-run]',
  options: OPTIONS,
  run: prune,
});

function prune(flags: FlagValues<typeof OPTIONS>): number {
  const keep = flagValue(flags, 'keep', nonNegativeInt);
  const age = flagValue(flags, 'older-than', parseAge);
  if ((keep === undefined) === (age === undefined)) throw new UsageError('give exactly one of --keep <n> or --older-than <age>');
  const policy: PrunePolicy = keep !== undefined ? { keep } : { olderThanMs: age! };
  const dir = flags.dir ?? CAPTURES_DIR;
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
