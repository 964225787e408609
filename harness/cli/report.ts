// zcprobe report (npm start): runs the evidence suite and writes captures/<run-id>/report.{html,json,md}.
import { join } from 'node:path';
import { LOCAL_TRANSPORTS, METHODS, parseSize, SENDER_CAPTURES } from '../model/experiment.ts';
import { runEvidenceSuite } from '../suites/evidence-suite.ts';
import { diskUsage, formatBytes } from '../host/disk.ts';
import { listRunDirs } from '../host/prune.ts';
import { writeReport } from '../report/write.ts';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { flagValue, helpText, listFlag, nonNegativeInt, oneOf, parseFlags, UsageError, type FlagSpec } from './args.ts';
import { filesystemsFlag } from './fs-flag.ts';
import { progressPrinter } from './progress.ts';
import { REMOTE_FLAGS, remoteFromFlags } from './remote-flags.ts';
import { NIC_FLAG, transportsFromFlags } from './transport-flags.ts';

const SPEC: Record<string, FlagSpec> = {
  repeats: { value: '<n>', help: 'repetitions of each stress case per cell (default 2)' },
  transport: { value: '<name>', repeatable: true, help: `limit to a transport (${LOCAL_TRANSPORTS.join(', ')}); repeatable (default: all)` },
  method: { value: '<name>', repeatable: true, help: 'limit to a method; repeatable (default: all)' },
  fs: { value: '<fs>', repeatable: true, help: 'filesystems for the file methods\' section: tmpfs, ext4, xfs, btrfs, or none; repeatable (default: all)' },
  'cost-total': { value: '<size>', help: 'bytes per bench run for the cost chart; 0 skips it (default 256MiB)' },
  out: { value: '<dir>', help: 'output directory (default captures/<run-id>)' },
  'sender-capture': {
    value: 'on|off',
    help: 'tcpdump on the sending device for every cell (default: off for zero-copy methods over nic and remote, on elsewhere)',
  },
  ...REMOTE_FLAGS,
  ...NIC_FLAG,
  help: { boolean: true, help: 'this help' },
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, SPEC);
  if (flags.help) {
    process.stdout.write(helpText('usage: zcprobe report [flags]   (also: npm start)', SPEC));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const repeats = flagValue(flags, 'repeats', nonNegativeInt) ?? 2;
  if (repeats < 1) throw new UsageError('--repeats must be at least 1');
  // With an agent, its path is the one transport; without, every transport this machine builds.
  const remote = remoteFromFlags(flags);
  if (remote && flags.transport !== undefined) throw new UsageError('--transport cannot be combined with --remote (or ZCPROBE_REMOTE): the agent is the transport');
  const { transports, nicPair } = remote ? { transports: ['remote' as const], nicPair: undefined } : transportsFromFlags(flags);
  const methods = listFlag(flags, 'method', METHODS);
  const senderCapture = flagValue(flags, 'sender-capture', oneOf(SENDER_CAPTURES));
  const filesystems = filesystemsFlag(flags);
  const costTotal = flagValue(flags, 'cost-total', parseSize) ?? 256 << 20;
  const runId = newRunId();
  const runDir = (flags.out as string | undefined) ?? join(CAPTURES_DIR, runId);
  const progress = progressPrinter();
  progress.line(`zcprobe evidence suite → ${runDir}`);
  const report = await runEvidenceSuite({
    runDir, runId, repeats, transports, methods, costTotal, filesystems,
    onProgress: progress.update, onPhase: progress.line, remote, nicPair, senderCapture,
  });
  progress.done();
  const paths = writeReport(runDir, report);
  const counts = new Map<string, number>();
  for (const c of report.cells) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  process.stdout.write(`${report.cells.length} cells: ${[...counts].map(([v, n]) => `${n} ${v}`).join(', ')}; ${report.counterexamples.length} counterexamples; ${(report.durationMs / 1000).toFixed(0)} s\n`);
  process.stdout.write(`report: ${paths.html}\n        ${paths.md}\n        ${paths.json}\n`);
  const all = listRunDirs(CAPTURES_DIR);
  const total = all.reduce((n, r) => n + r.bytes, 0);
  process.stdout.write(`disk:   ${formatBytes(diskUsage(runDir))} in ${runDir}; ${CAPTURES_DIR} holds ${all.length} runs, ${formatBytes(total)} (npx zcprobe prune --keep N frees older ones)\n`);
  return 0;
}
