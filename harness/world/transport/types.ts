// What every transport gives a session: where the sender connects from, where the receiver listens, what to capture, and per-case
// fault hooks whose results are verdict facts. A new transport is a module registered in transport/index.ts; session/ names none.
import type { Experiment, Transport } from '../../model/experiment.ts';
import type { ConnectionTuple } from '../../capture/wire.ts';

/** One capture point: 'sender' sees what left the sender's kernel (the wire W), 'receiver' what
 * reached the receiver's kernel (A, only where the link is a separate hop). */
export interface CaptureSpec {
  side: 'sender' | 'receiver';
  iface: string;
  /** tcpdump runs in this network namespace (by name) when set */
  netns?: string;
  /** a receiver-side capture that stands in for the sender's as W (what arrived) when the sender
   * capture is off (--sender-capture off); it runs only then */
  arrival?: true;
  /** tcpdump snaplen (see CaptureOptions.snaplen); unset: whole packets (-s 0) */
  snaplen?: number;
  /** where the flush sentinel datagram goes; it must cross `iface` */
  sentinelHost: string;
  /** sends the sentinel datagram when the default (a UDP socket in this process's namespace)
   * cannot reach `sentinelHost` */
  sendSentinel?: (token: Buffer, host: string, port: number) => void;
}

export type { LinkEvent } from '../../model/link-spec.ts';
import type { LinkEvent } from '../../model/link-spec.ts';

/** The link's account of one case (tun): events on the case's connection and counters over it. */
export interface LinkCaseFacts {
  events: LinkEvent[];
  /** relay counters over the case, per direction */
  relay: Record<'s2r' | 'r2s', { packets: number; bytes: number; dropped: number; reordered: number; overflow: number; errors: number }>;
  /** relay CPU (user + system) over the case, ms */
  relayCpuMs: number;
  /** packets the TUN devices dropped themselves (tx_dropped: their queue to the relay was full) */
  deviceDrops: { sender: number; receiver: number };
  /** how the link was configured for the case (spec strings, for case.json and the report) */
  config: Record<string, string | number>;
  /** facts that make the link's evidence unusable (e.g. the relay did not answer) */
  problems: string[];
}

export interface LinkCounters {
  /** packets and bytes the relay carried, sender→receiver and back */
  s2rPackets: number; s2rBytes: number; r2sPackets: number;
  /** the relay's CPU, user + system, µs (it includes the receive paths its writes drive) */
  cpuUs: number;
}

export interface TransportOptions {
  family: 4 | 6;
  /** veth: tbf rate on the sender side, e.g. "100mbit" */
  rate?: string;
  /** tun: the links' MTU (default 9000) */
  mtu?: number;
  /** nic: the two interfaces, "IF1,IF2" (IF2 moves into the receiver's namespace) */
  nicPair?: string;
}

export interface TransportEndpoint {
  kind: Transport;
  receiverHost: string;
  /** the sender side's address: where a listening sender (a real server, zcprobe serve) binds;
   * unset where the sender side is not on this host (remote) */
  senderHost?: string;
  /** the receiver process runs in this namespace (by name) */
  receiverNetns?: string;
  /** the sender's sockets are created in this namespace (path, e.g. /run/netns/NAME); unset: ours */
  senderNetnsPath?: string;
  /** first: the sender side (the wire) */
  captures: CaptureSpec[];
  /** the sender-side interface, for the report's offload listing (ethtool runs in the root ns) */
  captureIface: string;
  describe: string;
  /** one line for the report: whose pages the receiving application reads on this transport */
  pageOwnership: string;
  /** before a case: configure the link for it (tun: the experiment's faults) */
  beforeCase?(exp: Pick<Experiment, 'link'>): Promise<void>;
  /** after a case (the receiver has its bytes): what the link did to the connection */
  afterCase?(conn: ConnectionTuple): Promise<LinkCaseFacts>;
  /** links with a relay: its cumulative counters (the bench turns deltas into packets/s, CPU/GB) */
  linkCounters?(): Promise<LinkCounters>;
  close(): Promise<void>;
}
