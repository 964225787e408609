// zcprobe run: builds an Experiment from flags, runs it --repeat times, prints one line (or one
// JSON object) per case.
import { formatCaseLine } from '../verdict/case-report.ts';
import {
  ExperimentError,
  makeExperiment,
  METHODS,
  MUTATIONS,
  parseDurationMs,
  parseSize,
  SAFEGUARDS,
  SENDER_CAPTURES,
  TRANSPORTS,
  ARRIVAL_CAPTURE_TRANSPORTS,
  defaultSenderCapture,
  type Experiment,
  type SenderCapture,
} from '../model/experiment.ts';
import fc from 'fast-check';
import { parseReplay, type Claim, type ExperimentPartial } from '../model/claims/index.ts';
import { FS_SPECS_HELP, parseFsSpec } from '../model/fs-spec.ts';
import { CaseUnsupported } from '../session/run-case.ts';
import { Session } from '../session/session.ts';
import { familyOf, type RemoteOptions } from '../roles/agent/remote-transport.ts';
import { flagValue, nonNegativeInt, oneOf, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';
import { REMOTE_FLAGS, remoteFromFlags } from './remote-flags.ts';
import { LINK_FLAGS, linkFromFlags, NIC_FLAG, nicPairFromFlags } from './transport-flags.ts';
import { judgeCase } from '../evidence/judge.ts';

const OPTIONS = {
  method: { type: 'string', value: '<method>', help: `send method: ${METHODS.join(', ')} (required)` },
  size: { type: 'string', value: '<size>', help: 'bytes per case, e.g. 64KiB, 1MiB (default 1MiB)' },
  mutation: { type: 'string', value: '<kind>', help: `what changes after the send: ${MUTATIONS.join(', ')} (default: overwrite, or pwrite for file methods)` },
  fs: { type: 'string', value: '<fs>', help: `where file methods' source files live: ${FS_SPECS_HELP.join(', ')} (default tmpfs; ext4/xfs/btrfs on a loop image zcprobe makes and removes)` },
  'mutation-range': { type: 'string', value: 'all|first-half', help: 'mutate the whole source or only its first half (double-buffer scheme)' },
  safeguard: { type: 'string', value: '<name>', help: `what the sender waits for before the mutation: ${SAFEGUARDS.join(', ')} (default none)` },
  'receiver-delay-ms': { type: 'string', value: '<ms>', help: 'receiver sleeps this long after accept before reading (default 0)' },
  rcvbuf: { type: 'string', value: '<size>', help: "receiver's SO_RCVBUF (default: kernel autotuning)" },
  sndbuf: { type: 'string', value: '<size>', help: "sender's SO_SNDBUF (default: kernel autotuning)" },
  'pipe-size': { type: 'string', value: '<size>', help: 'pipe capacity for splice/vmsplice/tee (default 64KiB)' },
  transport: { type: 'string', value: '<name>', help: `${TRANSPORTS.join(', ')} (default loopback)` },
  family: { type: 'string', value: '4|6', help: 'IP version (default 4)' },
  rate: { type: 'string', value: '<rate>', help: 'veth only: tbf rate limit on the sender side, e.g. 100mbit' },
  ...LINK_FLAGS,
  ...NIC_FLAG,
  'safeguard-timeout-ms': { type: 'string', value: '<ms>', help: 'bound on any safeguard wait (default 5000)' },
  'poll-interval-ms': { type: 'string', value: '<ms>', help: 'poll interval of siocoutq/siocoutqnsd (default 1)' },
  repeat: { type: 'string', value: '<n>', help: 'run the case n times (default 1)' },
  replay: { type: 'string', value: '<claim>:<seed>:<path>', help: 'run the exact case a property test printed (e.g. vmsplice-reuse:42:0:1)' },
  json: { type: 'boolean', help: 'print one JSON object per case' },
  'no-capture': { type: 'boolean', help: 'no tcpdump: two-stream verdict (intended vs received) only' },
  'sender-capture': {
    type: 'string',
    value: 'on|off',
    help: 'tcpdump on the sending device (default: off for zero-copy methods over nic and remote, where the receiving side\'s ' +
      'capture is W; on elsewhere)',
  },
  ...REMOTE_FLAGS,
} satisfies FlagSpecs;

type RunValues = FlagValues<typeof OPTIONS>;

export interface RunFlags {
  exp: Experiment;
  repeat: number;
  json: boolean;
  capture: boolean;
  /** tcpdump on the sending device (docs/capture-placement.md) */
  senderCapture: SenderCapture;
  rate?: string;
  /** transport remote: the agent */
  remote?: RemoteOptions;
  /** tun: the link MTU */
  mtu?: number;
  /** nic: "IF1,IF2" */
  nicPair?: string;
}

/** With an agent the transport is 'remote' (and the family its address's, unless given). */
function remoteTransport(flags: RunValues): { remote?: RemoteOptions; transport?: 'remote'; family?: 4 | 6 } {
  const remote = remoteFromFlags(flags);
  if (!remote) return {};
  if (flags.transport !== undefined && flags.transport !== 'remote') throw new UsageError(`--transport ${flags.transport} cannot be combined with --remote (the agent is the transport)`);
  if (flags.rate !== undefined) throw new UsageError('--rate needs --transport veth, not --remote');
  return { remote, transport: 'remote', family: flags.family === undefined ? familyOf(remote) : undefined };
}

/** --no-capture and --sender-capture; the sender capture's default depends on method and transport. */
function captureFlags(flags: RunValues, exp: Experiment): Pick<RunFlags, 'capture' | 'senderCapture'> {
  const asked = flagValue(flags, 'sender-capture', oneOf(SENDER_CAPTURES));
  if (flags['no-capture'] && asked !== undefined)
    throw new UsageError('--sender-capture cannot be combined with --no-capture (no capture runs at all)');
  if (asked === 'off' && !ARRIVAL_CAPTURE_TRANSPORTS.includes(exp.transport))
    throw new UsageError(
      `--sender-capture off: ${exp.transport} has no other capture that can serve as W (${ARRIVAL_CAPTURE_TRANSPORTS.join(', ')} do); ` +
        '--no-capture gives a two-stream verdict',
    );
  return { capture: !flags['no-capture'], senderCapture: asked ?? defaultSenderCapture(exp.method, exp.transport) };
}

export function experimentFromFlags(flags: RunValues): RunFlags {
  if (flags.replay !== undefined) {
    const allowed = new Set([
      'replay', 'json', 'no-capture', 'sender-capture', 'repeat', 'transport',
      'family', 'rate', 'fs', 'remote', 'token-file', ...Object.keys(LINK_FLAGS), ...Object.keys(NIC_FLAG),
    ]);
    const other = Object.keys(flags).find((k) => !allowed.has(k));
    if (other) throw new UsageError(`--${other} cannot be combined with --replay (the claim defines the case)`);
    const { claim, seed, path } = flagValue(flags, 'replay', parseReplay)!;
    const exp = replayedExperiment(claim, seed, path);
    const r = remoteTransport(flags);
    const transport = r.transport ?? flagValue(flags, 'transport', oneOf(TRANSPORTS)) ?? exp.transport ?? 'loopback';
    const family = flagValue(flags, 'family', (v) => Number(oneOf(['4', '6'] as const)(v)) as 4 | 6) ?? r.family ?? 4;
    const repeat = flagValue(flags, 'repeat', nonNegativeInt) ?? 1;
    const fs = flagValue(flags, 'fs', parseFsSpec) ?? exp.fs ?? 'tmpfs';
    const { link, mtu } = linkFromFlags(flags);
    const replayed = makeExperiment({ ...exp, transport, family, fs, ...(link ? { link } : {}) });
    const nicPair = nicPairFromFlags(flags);
    if ((replayed.transport === 'nic') !== (nicPair !== undefined)) throw new UsageError('--transport nic and --nic-pair IF1,IF2 go together');
    const capture = captureFlags(flags, replayed);
    return { exp: replayed, repeat, json: Boolean(flags.json), ...capture, rate: flags.rate, remote: r.remote, mtu, nicPair };
  }
  const method = flagValue(flags, 'method', oneOf(METHODS));
  if (!method) throw new UsageError(`--method is required (allowed: ${METHODS.join(', ')})`);
  const size = flagValue(flags, 'size', parseSize) ?? 1 << 20;
  const partial: Parameters<typeof makeExperiment>[0] = { method, size };
  const set = <K extends keyof Experiment>(k: K, v: Experiment[K] | undefined) => {
    if (v !== undefined) partial[k] = v;
  };
  set('mutation', flags.mutation as Experiment['mutation'] | undefined);
  set('fs', flagValue(flags, 'fs', parseFsSpec));
  set('mutationRange', flagValue(flags, 'mutation-range', oneOf(['all', 'first-half'] as const)));
  set('safeguard', flagValue(flags, 'safeguard', oneOf(SAFEGUARDS)));
  set('receiverDelayMs', flagValue(flags, 'receiver-delay-ms', parseDurationMs));
  set('rcvbuf', flagValue(flags, 'rcvbuf', parseSize));
  set('sndbuf', flagValue(flags, 'sndbuf', parseSize));
  set('pipeSize', flagValue(flags, 'pipe-size', parseSize));
  set('transport', flagValue(flags, 'transport', oneOf(TRANSPORTS)));
  set('family', flagValue(flags, 'family', (v) => Number(oneOf(['4', '6'] as const)(v)) as 4 | 6));
  set('safeguardTimeoutMs', flagValue(flags, 'safeguard-timeout-ms', parseDurationMs));
  set('pollIntervalMs', flagValue(flags, 'poll-interval-ms', parseDurationMs));
  const r = remoteTransport(flags);
  set('transport', r.transport);
  if (partial.family === undefined) set('family', r.family);
  const repeat = flagValue(flags, 'repeat', nonNegativeInt) ?? 1;
  if (repeat < 1) throw new UsageError('--repeat must be at least 1');
  const { link, mtu } = linkFromFlags(flags);
  set('link', link);
  try {
    const exp = makeExperiment(partial);
    const rate = flags.rate;
    if (rate !== undefined && exp.transport !== 'veth') throw new UsageError('--rate needs --transport veth');
    if (rate !== undefined && !/^\d+(\.\d+)?(bit|kbit|mbit|gbit|tbit)$/.test(rate)) throw new UsageError(`--rate: "${rate}" is not a tc rate (e.g. 100mbit)`);
    if (exp.transport === 'remote' && !r.remote) throw new UsageError('--transport remote needs --remote ADDR:PORT --token-file FILE (or ZCPROBE_REMOTE, ZCPROBE_TOKEN_FILE)');
    if (mtu !== undefined && exp.transport !== 'tun') throw new UsageError('--link-mtu needs --transport tun');
    const nicPair = nicPairFromFlags(flags);
    if ((exp.transport === 'nic') !== (nicPair !== undefined)) throw new UsageError('--transport nic and --nic-pair IF1,IF2 go together');
    return { exp, repeat, json: Boolean(flags.json), ...captureFlags(flags, exp), rate, remote: r.remote, mtu, nicPair };
  } catch (e) {
    if (e instanceof ExperimentError) {
      const flag = e.field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
      throw new UsageError(`--${flag}: ${e.message}`);
    }
    throw e;
  }
}

/** The experiment fast-check generates for `claim` at (seed, path): the shrunk counterexample. */
export function replayedExperiment(claim: Pick<Claim, 'experiments'>, seed: number, path: string): ExperimentPartial {
  let found: ExperimentPartial | undefined;
  fc.check(
    fc.property(claim.experiments, (e) => {
      found = e;
      return false; // stop at the first value the path leads to
    }),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  if (!found) throw new UsageError(`--replay: no case at seed ${seed} path ${path}`);
  return found;
}

export const command = defineCommand({
  name: 'run',
  usage: '--method <method> [flags]',
  options: OPTIONS,
  run: (flags) => runCases(experimentFromFlags(flags)),
});

async function runCases({ exp, repeat, json, capture, senderCapture, rate, remote, mtu, nicPair }: RunFlags): Promise<number> {
  const session = await Session.open({
    transport: exp.transport, family: exp.family, capture, senderCapture, rate, fs: exp.fs, remote, mtu, nicPair,
  });
  try {
    for (let i = 0; i < repeat; i++) {
      let report;
      try {
        report = await judgeCase(session, exp);
      } catch (e) {
        // Not possible here (FICLONE on ext4, O_DIRECT on tmpfs): one line with the probed reason.
        if (!(e instanceof CaseUnsupported)) throw e;
        const skipped = { skipped: e.reason, method: exp.method, mutation: exp.mutation, fs: exp.fs };
        process.stdout.write((json ? JSON.stringify(skipped) : `${exp.method} ${exp.mutation} fs=${exp.fs} → skipped: ${e.reason}`) + '\n');
        break;
      }
      process.stdout.write((json ? JSON.stringify(report) : formatCaseLine(report)) + '\n');
    }
  } finally {
    await session.close();
  }
  return 0;
}
