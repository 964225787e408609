// zcprobe cleanup (scripts/cleanup.sh): removes what crashed zcprobe runs left on this host —
// their namespaces, links, work directories, mounts, loop devices, helper processes — and puts
// back sysctl values they had changed. A run still in progress is never touched.
import { sweepHost } from '../host/sweep.ts';
import type { FlagSpecs } from './args.ts';
import { defineCommand } from './command.ts';

const OPTIONS = {
  json: { type: 'boolean', help: 'print what was done as JSON' },
  verbose: { type: 'boolean', help: "also list live runs' resources that were left alone" },
} satisfies FlagSpecs;

export const command = defineCommand({
  name: 'cleanup',
  usage: '[--json] [--verbose]   (also: scripts/cleanup.sh)',
  options: OPTIONS,
  async run(flags) {
    const r = await sweepHost();
    if (flags.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    } else {
      for (const x of r.restored) process.stdout.write(`restored ${x}\n`);
      for (const x of r.removed) process.stdout.write(`removed ${x}\n`);
      for (const x of r.sysctls) process.stdout.write(`sysctl ${x}\n`);
      if (flags.verbose) for (const x of r.kept) process.stdout.write(`kept ${x}\n`);
      for (const x of r.errors) process.stderr.write(`zcprobe cleanup: ${x}\n`);
    }
    return r.errors.length ? 1 : 0;
  },
});
