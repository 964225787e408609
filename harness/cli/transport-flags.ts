// Transport flags shared by the subcommands: the --link-* faults the tun link injects and its MTU
// (parsed into LinkFaults, which the Experiment validates), and --nic-pair with the transports a
// run covers by default (nic only when a pair is given).
import { parseDurationMs, LOCAL_TRANSPORTS, type Transport } from '../model/experiment.ts';
import type { LinkFaults } from '../model/link-spec.ts';
import { parseNicPair } from '../world/transport/nic.ts';
import { flagValue, listFlag, nonNegativeInt, UsageError, type FlagSpecs, type FlagValues } from './args.ts';

export const NIC_FLAG = {
  'nic-pair': { type: 'string', value: '<if1,if2>', help: 'nic only: two ports cabled to each other; IF2 moves into the receiver namespace, both are restored on exit' },
} satisfies FlagSpecs;

/** --nic-pair, checked ("IF1,IF2", two different names), or undefined. */
export function nicPairFromFlags(flags: FlagValues<typeof NIC_FLAG>): string | undefined {
  return flagValue(flags, 'nic-pair', (v) => parseNicPair(v).join(','));
}

type TransportValues = FlagValues<typeof NIC_FLAG> & { transport?: string[] };

/** The --transport list (repeatable); by default every transport, nic only with --nic-pair. */
export function transportsFromFlags(flags: TransportValues): { transports: Transport[]; nicPair?: string } {
  const nicPair = nicPairFromFlags(flags);
  const transports = flags.transport === undefined ? LOCAL_TRANSPORTS.filter((t) => t !== 'nic' || nicPair) : listFlag(flags, 'transport', LOCAL_TRANSPORTS);
  if (transports.includes('nic') && !nicPair) throw new UsageError('--transport nic needs --nic-pair IF1,IF2');
  if (nicPair && !transports.includes('nic')) throw new UsageError('--nic-pair needs --transport nic (or no --transport)');
  return { transports, ...(nicPair ? { nicPair } : {}) };
}

export const LINK_FLAGS = {
  'link-delay-ms': { type: 'string', value: '<ms>', help: 'tun only: one-way delay of every packet, each direction' },
  'link-jitter-ms': { type: 'string', value: '<ms>', help: 'tun only: ± uniform jitter on the delay (order kept)' },
  'link-loss': { type: 'string', value: '<spec>', help: 'tun only: drop sender→receiver data segments: "2%", "0.02" (seeded) or "#3,#10-12" (per connection)' },
  'link-reorder': { type: 'string', value: '<spec>', help: 'tun only: deliver these data segments after the next packet (same syntax as --link-loss)' },
  'link-rate': { type: 'string', value: '<rate>', help: 'tun only: link rate each direction, e.g. 100mbit' },
  'link-seed': { type: 'string', value: '<n>', help: 'tun only: seed of probabilistic loss/reorder and jitter (default 1)' },
  'link-mtu': { type: 'string', value: '<bytes>', help: 'tun only: MTU of both TUN devices (default 9000, jumbo frames; 1500 = Ethernet)' },
} satisfies FlagSpecs;

/** The link faults and MTU the flags ask for (undefined when none is given). */
export function linkFromFlags(flags: FlagValues<typeof LINK_FLAGS>): { link?: LinkFaults; mtu?: number } {
  const link: LinkFaults = {};
  const delayMs = flagValue(flags, 'link-delay-ms', parseDurationMs);
  const jitterMs = flagValue(flags, 'link-jitter-ms', parseDurationMs);
  const seed = flagValue(flags, 'link-seed', nonNegativeInt);
  if (delayMs !== undefined) link.delayMs = delayMs;
  if (jitterMs !== undefined) link.jitterMs = jitterMs;
  if (seed !== undefined) link.seed = seed;
  for (const [flag, key] of [['link-loss', 'loss'], ['link-reorder', 'reorder'], ['link-rate', 'rate']] as const) {
    if (flags[flag] !== undefined) link[key] = flags[flag];
  }
  const mtu = flagValue(flags, 'link-mtu', nonNegativeInt);
  return { ...(Object.keys(link).length ? { link } : {}), ...(mtu !== undefined ? { mtu } : {}) };
}
