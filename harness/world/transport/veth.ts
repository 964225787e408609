// The veth transport: the sender in the root namespace, the receiver in a fresh namespace joined by a veth pair, so packets cross a
// real device with a qdisc (optionally tbf) and can sit in a queue holding page refs; routes are verified first (subnet.ts).
import { registerCleanup } from '../../host/exit-hooks.ts';
import { claim } from '../../host/ledger.ts';
import { ipSyncGone, nameTaken, NameTaken, netnsName, nextIndex, PREFIX, run, runGone, shortId } from './netns.ts';
import { pickSubnet, waitUsable } from './subnet.ts';
import type { TransportEndpoint, TransportOptions } from './types.ts';


export interface VethOptions { family: 4 | 6; rate?: string }
export interface VethTopology {
  netns: string; hostIf: string; nsIf: string; hostAddr: string; nsAddr: string;
  family: 4 | 6; rate: string | undefined;
  /** Deletes the veth pair and the namespace; idempotent. */
  destroy(): Promise<void>;
}

/** Why veth topologies cannot be built here (tests skip on it), or undefined. */
export async function vethUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const name = `${PREFIX}probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', name]);
    // Inside the probe namespace, so a missing veth driver is found without touching the root ns.
    await run('ip', ['-n', name, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  } finally {
    await runGone(['netns', 'del', name]).catch(() => {});
  }
}

const UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12 };
// burst >= 128 KiB: a whole 64 KiB GSO skb (plus per-segment headers) passes tbf in one piece
// instead of being software-segmented, so shaped and unshaped runs build the same skbs; and >= 1 ms
// of traffic, so the timer granularity never caps throughput below `rate`. latency 100ms bounds
// the queue (rate*latency+burst) without 400ms of bufferbloat; TCP small queues keeps one flow far
// below it anyway, but packets still wait in the qdisc, which is the point of shaping.
function tbfArgs(rate: string): string[] {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|tbit)$/i.exec(rate);
  const bps = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!(bps >= 8000)) throw new Error(`rate "${rate}": want >= 8kbit as <number><bit|kbit|mbit|gbit|tbit>, e.g. "100mbit"`);
  const burst = Math.max(128 * 1024, Math.ceil(bps / 8 / 1000));
  return ['rate', rate, 'burst', String(burst), 'latency', '100ms'];
}

async function build(n: number, family: 4 | 6, rate: string | undefined, tbf: string[] | undefined): Promise<VethTopology> {
  const id = shortId();
  const netns = netnsName(n), hostIf = `zcp${id}h${n}`, nsIf = `zcp${id}n${n}`;
  // Flags gate deletion so a name clash never makes us delete something that isn't ours.
  const made = { netns: false, link: false };
  // The namespace is recorded in the run ledger before it exists (its name holds our pid), so
  // a crash at any point is recoverable.
  let releaseNetns: (() => void) | undefined;
  let releaseLink: (() => void) | undefined;
  let gone = false;
  const forget = (): void => {
    releaseLink?.();
    releaseNetns?.();
  };
  const teardownSync = (): void => {
    if (gone) return;
    if (made.link) ipSyncGone(['link', 'del', hostIf]);
    if (made.netns) ipSyncGone(['netns', 'del', netns]);
    gone = true;
    forget();
  };
  const unregister = registerCleanup(`veth ${netns}`, teardownSync);
  let destroyP: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroyP ??= (async () => {
    if (gone) return;
    // Deleting the link first removes both ends now: `ip netns del` alone only unlinks the name,
    // and the kernel destroys the namespace (and veth) later, or never while a process is inside.
    if (made.link) await runGone(['link', 'del', hostIf]);
    if (made.netns) await runGone(['netns', 'del', netns]);
    gone = true;
    forget();
    unregister();
  })().catch((e: unknown) => { destroyP = undefined; throw e; }));

  try {
    releaseNetns = claim({ kind: 'netns', name: netns });
    await run('ip', ['netns', 'add', netns]).catch((e: Error) => { throw nameTaken(e); });
    made.netns = true;
    // The peer is created directly inside the namespace: its name never exists in the root ns.
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', netns])
      .catch((e: Error) => { throw nameTaken(e); });
    made.link = true;
    // Recorded once it is ours (the name may clash with another live run's: pid mod 1e5); a
    // crash before this line is still recovered, the pair dies with the namespace.
    const [shown] = JSON.parse(await run('ip', ['-j', 'link', 'show', 'dev', hostIf])) as { ifindex: number }[];
    releaseLink = claim({ kind: 'link', name: hostIf, ifindex: shown!.ifindex });
    const t = await pickSubnet(family, ((process.pid & 255) << 6) + n);
    const nodad = family === 6 ? ['nodad'] : [];
    for (const ns of [[], ['-n', netns]]) {
      const [dev, addr] = ns.length ? [nsIf, t.ns] : [hostIf, t.host];
      // No link-local address: no DAD, router solicitations or MLD reports to clutter captures.
      await run('ip', [...ns, 'link', 'set', 'dev', dev, 'addrgenmode', 'none']);
      await run('ip', [...ns, 'addr', 'add', `${addr}/${t.plen}`, 'dev', dev, ...nodad]);
      await run('ip', [...ns, 'link', 'set', 'dev', dev, 'up']);
    }
    await run('ip', ['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
    if (tbf) await run('tc', ['qdisc', 'add', 'dev', hostIf, 'root', 'tbf', ...tbf]);
    await waitUsable(t, hostIf, 'veth');
    return { netns, hostIf, nsIf, hostAddr: t.host, nsAddr: t.ns, family, rate, destroy };
  } catch (e) {
    await destroy().catch((t: Error) => { (e as Error).message += `; teardown failed too: ${t.message}`; });
    throw e;
  }
}

export async function createVethTopology(opts: VethOptions): Promise<VethTopology> {
  if (opts.family !== 4 && opts.family !== 6) throw new Error(`family must be 4 or 6, not ${String(opts.family)}`);
  const tbf = opts.rate === undefined ? undefined : tbfArgs(opts.rate); // validate before creating anything
  // A name can be taken by a stale namespace of a dead process with our pid, or by another
  // process whose pid matches ours modulo 1e5 (interface names): try the next index.
  for (let attempt = 0; ; attempt++) {
    try { return await build(nextIndex(), opts.family, opts.rate, tbf); } catch (e) {
      if (!(e instanceof NameTaken) || attempt >= 4) throw e;
    }
  }
}

/** The `veth` transport module: the sender is this process in the root namespace. */
export async function openVeth(opts: TransportOptions): Promise<TransportEndpoint> {
  const t = await createVethTopology({ family: opts.family, rate: opts.rate });
  return {
    kind: 'veth', receiverHost: t.nsAddr, receiverNetns: t.netns, senderHost: t.hostAddr,
    captures: [
      { side: 'sender', iface: t.hostIf, sentinelHost: t.nsAddr },
      { side: 'receiver', arrival: true, iface: t.nsIf, netns: t.netns, sentinelHost: t.nsAddr },
    ],
    captureIface: t.hostIf,
    close: () => t.destroy(),
    describe: `veth ${t.hostIf} ${t.hostAddr} -> ${t.netns}/${t.nsIf} ${t.nsAddr}${t.rate ? `, tbf ${t.rate}` : ''}`,
    pageOwnership: "veth: the receiving socket queues the sender's own skb, so it may read the sender's pages until it has read them",
  };
}
