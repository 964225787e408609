// zcprobe doctor: runs every feature probe and says, one line each, what this host can run and
// how to fix what it can't. Exit 0 only when everything the full suite needs is present.
import { runAllProbes, SUITE_NEEDS, type Probe } from '../world/probes.ts';
import type { FlagSpecs } from './args.ts';
import { defineCommand } from './command.ts';

const OPTIONS = {
  json: { type: 'boolean', help: 'print the probe list as JSON' },
} satisfies FlagSpecs;

/** "ok       tcpdump          captures on lo (tcpdump 4.99.3)" */
export function formatProbeLine(p: Probe): string {
  const optional = !p.ok && !SUITE_NEEDS.includes(p.name) ? ' (optional: the suite does not need it)' : '';
  const fix = !p.ok && p.fix ? ` — fix: ${p.fix}` : '';
  return `${(p.ok ? 'ok' : 'missing').padEnd(9)}${p.name.padEnd(17)}${p.detail}${optional}${fix}`;
}

export const command = defineCommand({
  name: 'doctor',
  usage: '[--json]',
  options: OPTIONS,
  async run(flags) {
    const probes = await runAllProbes();
    const out = flags.json ? JSON.stringify(probes, null, 2) : probes.map(formatProbeLine).join('\n');
    process.stdout.write(out + '\n');
    return probes.every((p) => p.ok || !SUITE_NEEDS.includes(p.name)) ? 0 : 1;
  },
});
