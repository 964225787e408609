// zcprobe doctor: runs every feature probe and says, one line each, what this host can run and
// how to fix what it can't. Exit 0 only when everything the full suite needs is present.
import { runAllProbes, SUITE_NEEDS, type Probe } from '../world/probes.ts';
import { helpText, parseFlags, UsageError, type FlagSpec } from './args.ts';

const SPEC: Record<string, FlagSpec> = {
  json: { boolean: true, help: 'print the probe list as JSON' },
  help: { boolean: true, help: 'this help' },
};

/** "ok       tcpdump          captures on lo (tcpdump 4.99.3)" */
export function formatProbeLine(p: Probe): string {
  const optional = !p.ok && !SUITE_NEEDS.includes(p.name) ? ' (optional: the suite does not need it)' : '';
  const fix = !p.ok && p.fix ? ` — fix: ${p.fix}` : '';
  return `${(p.ok ? 'ok' : 'missing').padEnd(9)}${p.name.padEnd(17)}${p.detail}${optional}${fix}`;
}

export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, SPEC);
  if (flags.help) {
    process.stdout.write(helpText('usage: zcprobe doctor [--json]', SPEC));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const probes = await runAllProbes();
  const out = flags.json ? JSON.stringify(probes, null, 2) : probes.map(formatProbeLine).join('\n');
  process.stdout.write(out + '\n');
  return probes.every((p) => p.ok || !SUITE_NEEDS.includes(p.name)) ? 0 : 1;
}
