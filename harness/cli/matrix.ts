// zcprobe matrix: runs the method × safeguard × transport matrix (no cost bench, no HTML) and
// prints its cells as JSON — the data the report is made of.
import { join } from 'node:path';
import { runEvidenceSuite } from '../suites/evidence-suite.ts';
import { LOCAL_TRANSPORTS, METHODS, SENDER_CAPTURES } from '../model/experiment.ts';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { flagValue, helpText, listFlag, nonNegativeInt, oneOf, parseFlags, UsageError, type FlagSpec } from './args.ts';
import { filesystemsFlag } from './fs-flag.ts';
import { progressPrinter } from './progress.ts';
import { REMOTE_FLAGS, remoteFromFlags } from './remote-flags.ts';
import { NIC_FLAG, transportsFromFlags } from './transport-flags.ts';

const SPEC: Record<string, FlagSpec> = {
  repeats: { value: '<n>', help: 'repetitions of each stress case per cell (default 1)' },
  transport: { value: '<name>', repeatable: true, help: `limit to a transport (${LOCAL_TRANSPORTS.join(', ')})` },
  method: { value: '<name>', repeatable: true, help: 'limit to a method' },
  fs: { value: '<fs>', repeatable: true, help: 'filesystems for the file methods\' section: tmpfs, ext4, xfs, btrfs, or none; repeatable (default: all)' },
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
    process.stdout.write(helpText('usage: zcprobe matrix [flags]   (JSON on stdout, progress on stderr)', SPEC));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  // With an agent, its path is the one transport; without, every transport this machine builds.
  const remote = remoteFromFlags(flags);
  if (remote && flags.transport !== undefined) throw new UsageError('--transport cannot be combined with --remote (or ZCPROBE_REMOTE): the agent is the transport');
  const { transports, nicPair } = remote ? { transports: ['remote' as const], nicPair: undefined } : transportsFromFlags(flags);
  const methods = listFlag(flags, 'method', METHODS);
  const senderCapture = flagValue(flags, 'sender-capture', oneOf(SENDER_CAPTURES));
  const filesystems = filesystemsFlag(flags);
  const repeats = flagValue(flags, 'repeats', nonNegativeInt) ?? 1;
  if (repeats < 1) throw new UsageError('--repeats must be at least 1');
  const runId = newRunId();
  const progress = progressPrinter();
  const report = await runEvidenceSuite({
    runDir: join(CAPTURES_DIR, runId), runId, repeats, transports, methods, costTotal: 0, filesystems,
    onProgress: progress.update, onPhase: progress.line, remote, nicPair, senderCapture,
  });
  progress.done();
  process.stdout.write(JSON.stringify({ runId, kernel: report.host.kernel, cells: report.cells, filesystems: report.filesystems }, null, 2) + '\n');
  return 0;
}
