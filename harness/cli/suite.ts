// The evidence suite from flags, one place for `report` (writes report.html/json/md) and `matrix`
// (prints the cells as JSON): which transports, methods and filesystems, how often, over which agent.
import { LOCAL_TRANSPORTS, METHODS, SENDER_CAPTURES } from '../model/experiment.ts';
import { LOOP_FILESYSTEMS, type FsSpec } from '../model/fs-spec.ts';
import type { Report } from '../report/types.ts';
import { runEvidenceSuite, type SuiteOptions } from '../suites/evidence-suite.ts';
import { flagValue, listFlag, nonNegativeInt, oneOf, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { progressPrinter } from './progress.ts';
import { REMOTE_FLAGS, remoteFromFlags } from './remote-flags.ts';
import { NIC_FLAG, transportsFromFlags } from './transport-flags.ts';

const SUITE_FILESYSTEMS: readonly FsSpec[] = ['tmpfs', ...LOOP_FILESYSTEMS];

const scopeFlags = (defaultRepeats: number) => ({
  repeats: { type: 'string', value: '<n>', help: `repetitions of each stress case per cell (default ${defaultRepeats})` },
  transport: { type: 'string', multiple: true, value: '<name>', help: `limit to a transport (${LOCAL_TRANSPORTS.join(', ')}); repeatable (default: all)` },
  method: { type: 'string', multiple: true, value: '<name>', help: 'limit to a method; repeatable (default: all)' },
  fs: { type: 'string', multiple: true, value: '<fs>', help: 'filesystems for the file methods\' section: tmpfs, ext4, xfs, btrfs, or none; repeatable (default: all)' },
  'sender-capture': {
    type: 'string',
    value: 'on|off',
    help: 'tcpdump on the sending device for every cell (default: off for zero-copy methods over nic and remote, on elsewhere)',
  },
} satisfies FlagSpecs);

type ScopeValues = FlagValues<ReturnType<typeof scopeFlags> & typeof REMOTE_FLAGS & typeof NIC_FLAG>;

/** The suite's flags (a command's `own` ones go before the agent's and the nic's) and what they ask for. */
export function suiteFlags<O extends FlagSpecs>(defaultRepeats: number, own: O) {
  const options = { ...scopeFlags(defaultRepeats), ...own, ...REMOTE_FLAGS, ...NIC_FLAG };
  /** Bad or contradicting flags throw UsageError. */
  const scope = (flags: ScopeValues): SuiteScope => {
    const repeats = flagValue(flags, 'repeats', nonNegativeInt) ?? defaultRepeats;
    if (repeats < 1) throw new UsageError('--repeats must be at least 1');
    // With an agent, its path is the one transport; without, every transport this machine builds.
    const remote = remoteFromFlags(flags);
    if (remote && flags.transport !== undefined) throw new UsageError('--transport cannot be combined with --remote (or ZCPROBE_REMOTE): the agent is the transport');
    const { transports, nicPair } = remote ? { transports: ['remote' as const], nicPair: undefined } : transportsFromFlags(flags);
    const methods = listFlag(flags, 'method', METHODS);
    const senderCapture = flagValue(flags, 'sender-capture', oneOf(SENDER_CAPTURES));
    const filesystems = filesystemsFlag(flags.fs);
    return { repeats, transports, methods, filesystems, remote, nicPair, ...(senderCapture ? { senderCapture } : {}) };
  };
  return { options, scope };
}

export type SuiteScope = Pick<SuiteOptions, 'repeats' | 'transports' | 'methods' | 'filesystems' | 'remote' | 'nicPair' | 'senderCapture'>;

/** --fs, repeatable; "none" skips the filesystem section. */
function filesystemsFlag(given: string[] | undefined): FsSpec[] {
  if (given?.includes('none')) {
    if (given.length > 1) throw new UsageError('--fs none cannot be combined with filesystems');
    return [];
  }
  return listFlag({ fs: given }, 'fs', SUITE_FILESYSTEMS);
}

/** Runs the suite with progress on stderr (`heading` first, when given). */
export async function runSuite(opts: Omit<SuiteOptions, 'onProgress' | 'onPhase'>, heading?: string): Promise<Report> {
  const progress = progressPrinter();
  if (heading) progress.line(heading);
  const report = await runEvidenceSuite({ ...opts, onProgress: progress.update, onPhase: progress.line });
  progress.done();
  return report;
}
