// zcprobe command line: one module per subcommand under harness/cli/ (its defineCommand), one row
// each below. Usage errors print one line and exit 2; failures exit 1.
import { UsageError } from './cli/args.ts';

// Loaded on demand: `zcprobe doctor` need not import the session and the suites.
type Entry = { summary: string; load: () => Promise<{ command: { main: (argv: string[]) => Promise<number> } }> };

const COMMANDS: Record<string, Entry> = {
  run: { summary: 'run experiments and print their verdicts', load: () => import('./cli/run.ts') },
  serve: { summary: 'a real server serves a file that changes once it logs the response as done', load: () => import('./cli/serve.ts') },
  bench: { summary: 'throughput and CPU cost of each send method and safeguard', load: () => import('./cli/bench.ts') },
  report: { summary: 'run the evidence suite and write report.html/json/md (npm start)', load: () => import('./cli/report.ts') },
  matrix: { summary: 'run the method × safeguard × transport matrix, print its cells as JSON', load: () => import('./cli/matrix.ts') },
  replay: { summary: 're-run a counterexample from a report (or a claim:seed:path) and compare verdicts', load: () => import('./cli/replay.ts') },
  compare: { summary: 'which matrix cells changed between two report.json files', load: () => import('./cli/compare.ts') },
  baseline: { summary: 'record this kernel\'s observations as baselines/<major.minor>-<transport>.json (write | show)', load: () => import('./cli/baseline.ts') },
  cleanup: { summary: "remove what crashed runs left (namespaces, work dirs, sysctls); never a live run's", load: () => import('./cli/cleanup.ts') },
  prune: { summary: 'delete old evidence runs under captures/ (--keep N | --older-than D)', load: () => import('./cli/prune.ts') },
  kernels: { summary: 'run a suite under other kernels in qemu (and this one) and compare them side by side', load: () => import('./cli/kernels.ts') },
  agent: { summary: 'serve the receiver role to a remote sender (zcprobe run --remote): the receiving machine of a two-host run', load: () => import('./cli/agent.ts') },
  wrap: { summary: 'find premature buffer reuse in any program: run it under a preload shim, connect as a slow client, prove it on the wire', load: () => import('./cli/wrap.ts') },
  doctor: { summary: 'check what this host can run (root, tcpdump, io_uring, netns, ...) and how to fix it', load: () => import('./cli/doctor.ts') },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(10)}${c.summary}`);
  return `usage: zcprobe <command> [flags]   (zcprobe <command> --help)\n\ncommands:\n${rows.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`zcprobe: unknown command "${name}" (allowed: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    return await (await cmd.load()).command.main(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`zcprobe ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`zcprobe ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
