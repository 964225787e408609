// The transport registry: one module per transport, all behind TransportEndpoint (types.ts).
// Adding a transport adds a line here and a module; nothing else names transports.
import type { Transport } from '../../model/experiment.ts';
import { openLoopback } from './loopback.ts';
import { openNic } from './nic.ts';
import { openTun } from './tun.ts';
import type { TransportEndpoint, TransportOptions } from './types.ts';
import { openVeth } from './veth.ts';

// 'remote' is not built here: its receiver is a zcprobe agent (agent/remote-transport.ts).
const MODULES: Record<Exclude<Transport, 'remote'>, (opts: TransportOptions) => Promise<TransportEndpoint>> = {
  loopback: openLoopback,
  veth: openVeth,
  tun: openTun,
  nic: openNic,
};

export async function openTransport(kind: Transport, opts: TransportOptions): Promise<TransportEndpoint> {
  const open = kind !== 'remote' && Object.hasOwn(MODULES, kind) ? MODULES[kind] : undefined;
  if (!open) throw new Error(`unknown transport ${String(kind)} (known: ${Object.keys(MODULES).join(', ')})`);
  return open(opts);
}

export type { CaptureSpec, LinkCaseFacts, LinkEvent, TransportEndpoint, TransportOptions } from './types.ts';
