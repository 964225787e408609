// zcprobe run: builds an Experiment from flags, runs it --repeat times, prints one line (or one
// JSON object) per case.
import { formatCaseLine } from '../case-report.ts';
import {
  ExperimentError,
  makeExperiment,
  METHODS,
  MUTATIONS,
  parseDurationMs,
  parseSize,
  SAFEGUARDS,
  TRANSPORTS,
  type Experiment,
} from '../experiment.ts';
import { Session } from '../session.ts';
import { flagValue, helpText, nonNegativeInt, oneOf, parseFlags, UsageError, type FlagSpec } from './args.ts';

const SPEC: Record<string, FlagSpec> = {
  method: { value: '<method>', help: `send method: ${METHODS.join(', ')} (required)` },
  size: { value: '<size>', help: 'bytes per case, e.g. 64KiB, 1MiB (default 1MiB)' },
  mutation: { value: '<kind>', help: `what changes after the send: ${MUTATIONS.join(', ')} (default: overwrite, or pwrite for file methods)` },
  safeguard: { value: '<name>', help: `what the sender waits for before the mutation: ${SAFEGUARDS.join(', ')} (default none)` },
  'receiver-delay-ms': { value: '<ms>', help: 'receiver sleeps this long after accept before reading (default 0)' },
  rcvbuf: { value: '<size>', help: "receiver's SO_RCVBUF (default: kernel autotuning)" },
  sndbuf: { value: '<size>', help: "sender's SO_SNDBUF (default: kernel autotuning)" },
  'pipe-size': { value: '<size>', help: 'pipe capacity for splice/vmsplice/tee (default 64KiB)' },
  transport: { value: '<name>', help: `${TRANSPORTS.join(', ')} (default loopback)` },
  family: { value: '4|6', help: 'IP version (default 4)' },
  'safeguard-timeout-ms': { value: '<ms>', help: 'bound on any safeguard wait (default 5000)' },
  'poll-interval-ms': { value: '<ms>', help: 'poll interval of siocoutq/siocoutqnsd (default 1)' },
  repeat: { value: '<n>', help: 'run the case n times (default 1)' },
  json: { boolean: true, help: 'print one JSON object per case' },
  'no-capture': { boolean: true, help: 'no tcpdump: two-stream verdict (intended vs received) only' },
  help: { boolean: true, help: 'this help' },
};

export function experimentFromFlags(argv: string[]): { exp: Experiment; repeat: number; json: boolean; capture: boolean } | null {
  const { flags, positional } = parseFlags(argv, SPEC);
  if (flags.help) return null;
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const method = flagValue(flags, 'method', oneOf(METHODS));
  if (!method) throw new UsageError(`--method is required (allowed: ${METHODS.join(', ')})`);
  const size = flagValue(flags, 'size', parseSize) ?? 1 << 20;
  const partial: Parameters<typeof makeExperiment>[0] = { method, size };
  const set = <K extends keyof Experiment>(k: K, v: Experiment[K] | undefined) => {
    if (v !== undefined) partial[k] = v;
  };
  set('mutation', flagValue(flags, 'mutation', oneOf(MUTATIONS)));
  set('safeguard', flagValue(flags, 'safeguard', oneOf(SAFEGUARDS)));
  set('receiverDelayMs', flagValue(flags, 'receiver-delay-ms', parseDurationMs));
  set('rcvbuf', flagValue(flags, 'rcvbuf', parseSize));
  set('sndbuf', flagValue(flags, 'sndbuf', parseSize));
  set('pipeSize', flagValue(flags, 'pipe-size', parseSize));
  set('transport', flagValue(flags, 'transport', oneOf(TRANSPORTS)));
  set('family', flagValue(flags, 'family', (v) => Number(oneOf(['4', '6'] as const)(v)) as 4 | 6));
  set('safeguardTimeoutMs', flagValue(flags, 'safeguard-timeout-ms', parseDurationMs));
  set('pollIntervalMs', flagValue(flags, 'poll-interval-ms', parseDurationMs));
  const repeat = flagValue(flags, 'repeat', nonNegativeInt) ?? 1;
  if (repeat < 1) throw new UsageError('--repeat must be at least 1');
  try {
    return { exp: makeExperiment(partial), repeat, json: Boolean(flags.json), capture: !flags['no-capture'] };
  } catch (e) {
    if (e instanceof ExperimentError) {
      const flag = e.field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
      throw new UsageError(`--${flag}: ${e.message}`);
    }
    throw e;
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = experimentFromFlags(argv);
  if (!parsed) {
    process.stdout.write(helpText('usage: zcprobe run --method <method> [flags]', SPEC));
    return 0;
  }
  const { exp, repeat, json, capture } = parsed;
  const session = await Session.open({ transport: exp.transport, family: exp.family, capture });
  try {
    for (let i = 0; i < repeat; i++) {
      const report = await session.run(exp);
      process.stdout.write((json ? JSON.stringify(report) : formatCaseLine(report)) + '\n');
    }
  } finally {
    await session.close();
  }
  return 0;
}
