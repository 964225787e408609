// The `loopback` transport: sender and receiver in this namespace, over lo.
import type { TransportEndpoint, TransportOptions } from './types.ts';

export async function openLoopback(opts: TransportOptions): Promise<TransportEndpoint> {
  // Shaping lo would slow every local connection on the machine, not just ours.
  if (opts.rate !== undefined) throw new Error('rate needs the veth transport');
  const host = opts.family === 6 ? '::1' : '127.0.0.1';
  return {
    kind: 'loopback', receiverHost: host, senderHost: host,
    captures: [{ side: 'sender', iface: 'lo', sentinelHost: host }],
    captureIface: 'lo',
    close: async () => {},
    describe: `loopback ${host}`,
    pageOwnership: "loopback: the receiving socket queues the sender's own skb, so it may read the sender's pages until it has read them",
  };
}
