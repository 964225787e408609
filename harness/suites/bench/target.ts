// Opens the link a bench runs over (transport/index.ts) and describes it as a BenchTarget: where the
// receiver runs (a namespace prefix), where the senders connect from, and — for tun — where the
// relay's counters are read. The caller closes it after the bench.
import { basename } from 'node:path';
import { openTransport } from '../../world/transport/index.ts';
import { loopbackTarget, type BenchTarget, type BenchTransport } from './config.ts';
import type { LinkCountersSource } from './runner.ts';

export interface OpenedTarget {
  target: BenchTarget;
  link?: LinkCountersSource;
  close(): Promise<void>;
}

export async function openBenchTarget(transport: BenchTransport, family: 4 | 6): Promise<OpenedTarget> {
  if (transport === 'loopback') return { target: loopbackTarget(family), close: async () => {} };
  const t = await openTransport(transport, { family });
  const inNs = (name: string | undefined) => (name ? ['ip', 'netns', 'exec', name] : []);
  const senderNs = t.senderNetnsPath ? basename(t.senderNetnsPath) : undefined;
  const target: BenchTarget = {
    transport,
    description: `${t.describe} — ${transport === 'tun' ? 'a copying link, not a NIC' : 'not a NIC'}`,
    host: t.receiverHost,
    family,
    receiverPrefix: inNs(t.receiverNetns),
    senderPrefix: inNs(senderNs),
    ...(t.senderNetnsPath ? { senderNetns: t.senderNetnsPath } : {}),
  };
  const counters = t.linkCounters?.bind(t);
  return { target, ...(counters ? { link: counters } : {}), close: () => t.close() };
}
