// The tun transport: sender and receiver in two fresh namespaces, each with a TUN device, zcrelay copying every packet between them
// so the receiving kernel builds its own skb, as behind a NIC, and injecting the link's faults. Lifecycle and cleanup: docs/tun.md.
import { setTimeout as sleep } from 'node:timers/promises';
import { registerCleanup } from '../../host/exit-hooks.ts';
import type { ConnectionTuple } from '../../capture/wire.ts';
import type { Experiment } from '../../model/experiment.ts';
import { FILE, isNativeError, native, SOCK, SPLICE } from '../../native.ts';
import { describeFaults, relayConfigLine } from '../../model/link-spec.ts';
import { ipSyncGone, nameTaken, NameTaken, netnsName, netnsPath, nextIndex, run, runGone, shortId } from './netns.ts';
import { Relay, type RelayStats } from './relay.ts';
import type { LinkCaseFacts, LinkEvent, TransportEndpoint, TransportOptions } from './types.ts';

const READY_TIMEOUT_MS = 5000;
// Jumbo frames by default: a 16 MiB case at MTU 1500 carries ~11,600 packets per capture, and the
// per-packet work (sender segmentation, relay, receiver, two tcpdumps, decoding) made it ~4-5x the
// veth time on a 2-CPU host; at 9000 it is ~1.5x. --link-mtu 1500 gives Ethernet's MTU.
export const DEFAULT_MTU = 9000;
// The namespaces are private to the pair, so every topology can use the same addresses.
const ADDRS = { 4: { plen: 30, sender: '10.200.0.1', receiver: '10.200.0.2' }, 6: { plen: 64, sender: 'fd00:7a63:1::1', receiver: 'fd00:7a63:1::2' } };
// A TUN device drops (tx_dropped) instead of pushing back when its queue to the relay is full;
// TCP bursts of a whole window must fit, so the queue is far longer than the default 500.
const TXQUEUELEN = 10000;

export interface TunTopology {
  senderNetns: string; receiverNetns: string; senderIf: string; receiverIf: string;
  senderAddr: string; receiverAddr: string; family: 4 | 6; mtu: number;
  relay: Relay;
  /** Stops the relay (its devices go with it) and deletes both namespaces; idempotent. */
  destroy(): Promise<void>;
}

// A TCP SYN from the sender's namespace to a closed port, answered by RST (ECONNREFUSED), proves
// both devices, both addresses and the relay work end to end.
function refusedFrom(ns: string, family: 4 | 6, host: string, ms: number): string {
  let fd = -1;
  try {
    fd = native.socket(family, { netns: netnsPath(ns) });
    native.fcntlInt(fd, FILE.F_SETFL, native.fcntlInt(fd, FILE.F_GETFL) | SPLICE.O_NONBLOCK);
    try {
      native.connect(fd, host, 9);
    } catch (e) {
      if (!isNativeError(e) || e.code !== 'EINPROGRESS') return isNativeError(e) ? e.code : String(e);
    }
    if (native.poll(fd, SOCK.POLLOUT, ms) === 0) return 'timeout';
    const err = native.getsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_ERROR);
    return err === 111 /* ECONNREFUSED */ ? 'ok' : `SO_ERROR ${err}`;
  } finally {
    if (fd >= 0) native.close(fd);
  }
}

async function configure(ns: string, dev: string, addr: string, plen: number, family: 4 | 6, mtu: number): Promise<void> {
  // No link-local address: no DAD, router solicitations or MLD reports to clutter captures.
  await run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'addrgenmode', 'none']);
  await run('ip', ['-n', ns, 'addr', 'add', `${addr}/${plen}`, 'dev', dev, ...(family === 6 ? ['nodad'] : [])]);
  await run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'mtu', String(mtu), 'txqueuelen', String(TXQUEUELEN), 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'dev', 'lo', 'up']);
}

async function build(n: number, family: 4 | 6, mtu: number): Promise<TunTopology> {
  const id = shortId();
  const senderNetns = `${netnsName(n)}s`, receiverNetns = `${netnsName(n)}r`;
  const senderIf = `zct${id}a${n}`, receiverIf = `zct${id}b${n}`;
  const made = { sender: false, receiver: false };
  let relay: Relay | undefined;
  let gone = false;
  const teardownSync = (): void => {
    if (gone) return;
    relay?.kill();
    if (made.sender) ipSyncGone(['netns', 'del', senderNetns]);
    if (made.receiver) ipSyncGone(['netns', 'del', receiverNetns]);
    gone = true;
  };
  const unregister = registerCleanup(`tun ${senderNetns}`, teardownSync);
  let destroyP: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroyP ??= (async () => {
    if (gone) return;
    await relay?.close(); // the devices vanish with the relay's fds
    if (made.sender) await runGone(['netns', 'del', senderNetns]);
    if (made.receiver) await runGone(['netns', 'del', receiverNetns]);
    gone = true;
    unregister();
  })().catch((e: unknown) => { destroyP = undefined; throw e; }));

  try {
    await run('ip', ['netns', 'add', senderNetns]).catch((e: Error) => { throw nameTaken(e); });
    made.sender = true;
    await run('ip', ['netns', 'add', receiverNetns]).catch((e: Error) => { throw nameTaken(e); });
    made.receiver = true;
    relay = await Relay.start(`${netnsPath(senderNetns)}:${senderIf}`, `${netnsPath(receiverNetns)}:${receiverIf}`);
    const a = ADDRS[family];
    await configure(senderNetns, senderIf, a.sender, a.plen, family, mtu);
    await configure(receiverNetns, receiverIf, a.receiver, a.plen, family, mtu);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let last = '';; await sleep(20)) {
      if ((last = refusedFrom(senderNetns, family, a.receiver, 500)) === 'ok') break;
      if (relay.exitReason) throw new Error(relay.exitReason);
      if (Date.now() >= deadline) throw new Error(`tun ${senderIf} -> ${receiverIf}: ${a.receiver} not reachable after ${READY_TIMEOUT_MS} ms (${last})`);
    }
    return {
      senderNetns, receiverNetns, senderIf, receiverIf, senderAddr: a.sender, receiverAddr: a.receiver, family, mtu, relay, destroy,
    };
  } catch (e) {
    await destroy().catch((t: Error) => { (e as Error).message += `; teardown failed too: ${t.message}`; });
    throw e;
  }
}

export async function createTunTopology(opts: { family: 4 | 6; mtu?: number }): Promise<TunTopology> {
  const mtu = opts.mtu ?? DEFAULT_MTU;
  if (opts.family !== 4 && opts.family !== 6) throw new Error(`family must be 4 or 6, not ${String(opts.family)}`);
  if (!Number.isInteger(mtu) || mtu < (opts.family === 6 ? 1280 : 576) || mtu > 65000) throw new Error(`mtu must be from ${opts.family === 6 ? 1280 : 576} to 65000, not ${mtu}`);
  for (let attempt = 0; ; attempt++) {
    try { return await build(nextIndex(), opts.family, mtu); } catch (e) {
      if (!(e instanceof NameTaken) || attempt >= 4) throw e;
    }
  }
}

const sub = (a: number, b: number): number => Math.max(0, a - b);

/** What the link did between two relay snapshots. */
function delta(after: RelayStats, before: RelayStats): Pick<LinkCaseFacts, 'relay' | 'relayCpuMs' | 'deviceDrops'> {
  const dir = (d: 's2r' | 'r2s') => {
    const a = after[d], b = before[d];
    return {
      packets: sub(a.packets, b.packets), bytes: sub(a.bytes, b.bytes), dropped: sub(a.dropped, b.dropped),
      reordered: sub(a.reordered, b.reordered), overflow: sub(a.overflow, b.overflow), errors: sub(a.errors, b.errors),
    };
  };
  return {
    relay: { s2r: dir('s2r'), r2s: dir('r2s') },
    relayCpuMs: (after.cpuUserUs + after.cpuSysUs - before.cpuUserUs - before.cpuSysUs) / 1000,
    deviceDrops: {
      sender: sub(after.deviceA.txDropped, before.deviceA.txDropped),
      receiver: sub(after.deviceB.txDropped, before.deviceB.txDropped),
    },
  };
}

const sameTuple = (e: ConnectionTuple, c: ConnectionTuple): boolean =>
  e.src === c.src && e.srcPort === c.srcPort && e.dst === c.dst && e.dstPort === c.dstPort;

/** The `tun` transport module. */
export async function openTun(opts: TransportOptions): Promise<TransportEndpoint> {
  if (opts.rate !== undefined) throw new Error('rate is a veth option; the tun link takes link faults (--link-rate)');
  const t = await createTunTopology({ family: opts.family, mtu: opts.mtu });
  const senderNs = netnsPath(t.senderNetns);
  // The flush sentinel must leave through the sender's device: sent from the sender's namespace.
  let sentinelFd = -1;
  const sendSentinel = (token: Buffer, host: string, port: number): void => {
    if (sentinelFd < 0) sentinelFd = native.socket(t.family, { type: 'dgram', netns: senderNs });
    native.sendto(sentinelFd, token, 0, token.length, host, port);
  };
  let before: RelayStats | undefined;
  let config: Record<string, string | number> = {};
  return {
    kind: 'tun',
    receiverHost: t.receiverAddr,
    receiverNetns: t.receiverNetns,
    senderHost: t.senderAddr,
    senderNetnsPath: senderNs,
    captures: [
      // snaplen = MTU + room for a link-layer header (libpcap may capture a TUN device "cooked",
      // 16-20 bytes): a TUN device carries IP packets of at most its MTU (no offloads), and a
      // whole-packet snaplen would leave tcpdump's ring room for only ~256 of them.
      { side: 'sender', iface: t.senderIf, netns: t.senderNetns, snaplen: t.mtu + 64, sentinelHost: t.receiverAddr, sendSentinel },
      { side: 'receiver', iface: t.receiverIf, netns: t.receiverNetns, snaplen: t.mtu + 64, sentinelHost: t.receiverAddr, sendSentinel },
    ],
    captureIface: t.senderIf,
    describe: `tun ${t.senderNetns}/${t.senderIf} ${t.senderAddr} -> zcrelay (pid ${t.relay.pid}) -> ${t.receiverNetns}/${t.receiverIf} ${t.receiverAddr}, mtu ${t.mtu}`,
    pageOwnership: 'tun: the relay copies every packet, so the receiving kernel reads its own copy, as behind a NIC; the sender\'s pages stay referenced only until TCP has them ACKed (and for retransmission)',
    async beforeCase(exp: Pick<Experiment, 'link'>) {
      await t.relay.configure(relayConfigLine(exp.link));
      config = { mtu: t.mtu, ...describeFaults(exp.link) };
      await t.relay.takeEvents(); // events of earlier connections are not this case's
      before = await t.relay.stats();
    },
    async afterCase(conn: ConnectionTuple): Promise<LinkCaseFacts> {
      const problems: string[] = [];
      const taken = await t.relay.takeEvents();
      if (taken.problem) problems.push(`the relay's event list is incomplete: ${taken.problem}`);
      if (taken.lost) problems.push(`${taken.lost} relay event(s) were lost (buffer bound)`);
      let counters: Pick<LinkCaseFacts, 'relay' | 'relayCpuMs' | 'deviceDrops'>;
      try {
        counters = delta(await t.relay.stats(), before!);
      } catch (e) {
        problems.push(`the relay's counters could not be read: ${(e as Error).message}`);
        const zero = { packets: 0, bytes: 0, dropped: 0, reordered: 0, overflow: 0, errors: 0 };
        counters = { relay: { s2r: zero, r2s: zero }, relayCpuMs: 0, deviceDrops: { sender: 0, receiver: 0 } };
      }
      const reversed = (e: LinkEvent) => ({ src: e.dst, srcPort: e.dstPort, dst: e.src, dstPort: e.srcPort });
      const events = taken.events.filter((e) => sameTuple(e, conn) || sameTuple(reversed(e), conn));
      return { events, ...counters, config, problems };
    },
    async linkCounters() {
      const s = await t.relay.stats();
      return { s2rPackets: s.s2r.packets, s2rBytes: s.s2r.bytes, r2sPackets: s.r2s.packets, cpuUs: s.cpuUserUs + s.cpuSysUs };
    },
    async close() {
      if (sentinelFd >= 0) native.close(sentinelFd);
      sentinelFd = -1;
      await t.destroy();
    },
  };
}
