// Addresses for a link between the root namespace (the sender) and a namespace we made (the receiver): a free private subnet, and
// proof that the route to the receiver leaves through our interface before anything is sent. Shared by veth and nic.
import { BlockList, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './netns.ts';

const READY_TIMEOUT_MS = 5000;
// One /30 of 10.255.0.0/16 per slot; IPv6 uses fd00:7a63:0:<slot>::/64 (a ULA, never routed out).
const SLOTS = 16384;

export interface Subnet { net: string; plen: number; host: string; ns: string }
function subnet(family: 4 | 6, k: number): Subnet {
  if (family === 6) {
    const net = `fd00:7a63:0:${k.toString(16)}::`;
    return { net, plen: 64, host: `${net}1`, ns: `${net}2` };
  }
  const base = `10.255.${k >> 6}.`, low = (k & 63) << 2;
  return { net: `${base}${low}`, plen: 30, host: `${base}${low + 1}`, ns: `${base}${low + 2}` };
}

// Every prefix already configured or routed in the root namespace: a slot overlapping any of them
// (another topology, or a real network that happens to use the range) is skipped.
export async function pickSubnet(family: 4 | 6, seed: number): Promise<Subnet> {
  const f = family === 6 ? '-6' : '-4', type = family === 6 ? 'ipv6' : 'ipv4';
  const addrs = JSON.parse((await run('ip', ['-j', f, 'addr', 'show'])) || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[];
  const routes = JSON.parse((await run('ip', ['-j', f, 'route', 'show', 'table', 'all'])) || '[]') as { dst: string }[];
  const used: [string, number][] = addrs.flatMap((l) => (l.addr_info ?? []).map((a): [string, number] => [a.local, a.prefixlen]));
  for (const { dst } of routes) {
    if (dst === 'default') continue; // less specific than our connected /30 or /64: cannot capture it
    const [a, p] = dst.split('/');
    used.push([a!, p ? Number(p) : family === 6 ? 128 : 32]);
  }
  for (let i = 0; i < SLOTS; i++) {
    const s = subnet(family, (seed + i) % SLOTS);
    const mine = new BlockList();
    mine.addSubnet(s.net, s.plen, type);
    const clash = used.some(([a, p]) => {
      if (mine.check(a, type)) return true;
      const theirs = new BlockList();
      theirs.addSubnet(a, p, type);
      return theirs.check(s.net, type);
    });
    if (!clash) return s;
  }
  throw new Error(`no free ${family === 6 ? 'fd00:7a63:0:x::/64' : '10.255.x.x/30'} test subnet`);
}

// A TCP SYN to a closed port answered by RST proves both addresses and the link work end to end
// (and warms ARP/ND, so captures don't start with resolution traffic).
function refused(host: string, localAddress: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port: 9, localAddress, timeout: ms });
    const done = (r: string): void => { s.destroy(); resolve(r); };
    s.once('connect', () => done('ok'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'ok' : String(e.code)));
    s.once('timeout', () => done('timeout'));
  });
}

export async function waitUsable(t: Subnet, hostIf: string, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let last = '';; await sleep(20)) {
    const route = JSON.parse(await run('ip', ['-j', 'route', 'get', t.ns])) as { dev?: string }[];
    // Only probe once the kernel routes nsAddr into our veth: never let a probe leave via eth0.
    if (route[0]?.dev !== hostIf) last = `route to ${t.ns} is via ${route[0]?.dev ?? '?'}, not ${hostIf}`;
    else if ((last = await refused(t.ns, t.host, 500)) === 'ok') return;
    if (Date.now() >= deadline) throw new Error(`${what} ${hostIf}: ${t.ns} not usable after ${READY_TIMEOUT_MS} ms (${last})`);
  }
}

