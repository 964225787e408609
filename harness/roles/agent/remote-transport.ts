// The `remote` transport: the receiver is a `zcprobe agent` on another machine (or namespace).
// Opening it connects to the agent, and finds the interface our route to it leaves by — where
// the sender's own tcpdump captures what left — and the host facts of both ends.
import { readTokenFile, pskFromToken } from './psk.ts';
import { formatHostPort, parseHostPort } from './address.ts';
import { describeHost, hostFacts, ifaceToward, type HostFacts } from '../../host/host-facts.ts';
import { RemoteReceiver } from './remote-receiver.ts';
import type { TransportEndpoint } from '../../world/transport/types.ts';

export interface RemoteOptions {
  host: string;
  port: number;
  /** the shared secret's file (never the secret itself: argv is visible to every user) */
  tokenFile: string;
}

/** ZCPROBE_REMOTE=ADDR:PORT and ZCPROBE_TOKEN_FILE=FILE, or undefined when ZCPROBE_REMOTE is unset. */
export function remoteFromEnv(env: NodeJS.ProcessEnv = process.env): RemoteOptions | undefined {
  const at = env.ZCPROBE_REMOTE;
  if (!at) return undefined;
  const tokenFile = env.ZCPROBE_TOKEN_FILE;
  if (!tokenFile) throw new Error('ZCPROBE_REMOTE is set but ZCPROBE_TOKEN_FILE is not: the agent needs the shared token');
  return { ...parseHostPort(at), tokenFile };
}

export function familyOf(r: Pick<RemoteOptions, 'host'>): 4 | 6 {
  return r.host.includes(':') ? 6 : 4;
}

export interface RemoteTransport {
  endpoint: TransportEndpoint;
  receiver: RemoteReceiver;
  hosts: { sender: HostFacts; receiver: HostFacts };
}

export async function openRemote(r: RemoteOptions, opts: { capture: boolean; family: 4 | 6 }): Promise<RemoteTransport> {
  if (familyOf(r) !== opts.family) throw new Error(`the agent ${formatHostPort(r.host, r.port)} is IPv${familyOf(r)}, the experiment wants IPv${opts.family}`);
  const psk = pskFromToken(readTokenFile(r.tokenFile));
  const receiver = await RemoteReceiver.open(r, psk, { capture: opts.capture });
  try {
    const iface = await ifaceToward(receiver.host);
    const sender = await hostFacts(iface);
    const agent = receiver.welcome.host;
    const c = receiver.initialClock;
    const endpoint: TransportEndpoint = {
      kind: 'remote',
      receiverHost: receiver.host,
      captureIface: iface,
      // the sender's own capture: what left it (the agent captures what arrived)
      captures: [{ side: 'sender', iface, sentinelHost: receiver.host }],
      pageOwnership: "remote: the receiving machine's kernel builds its own copy from what its NIC received",
      close: async () => {},
      describe: `remote agent ${receiver.agent}: sender ${describeHost(sender)} → receiver ${describeHost(agent)}; agent clock ${c.offsetMs >= 0 ? '+' : ''}${c.offsetMs.toFixed(3)} ± ${c.uncertaintyMs.toFixed(3)} ms`,
    };
    return { endpoint, receiver, hosts: { sender, receiver: agent } };
  } catch (e) {
    await receiver.close();
    throw e;
  }
}
