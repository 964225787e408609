// What the nic transport must give back (namespace, addresses, MTU, up/down), written to a state file before anything changes
// so scripts/cleanup.sh can restore it after SIGKILL; restore steps are data. Also which interfaces may be used at all.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NIC_STATE_DIR = '/run/zcprobe';
const NAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export interface IfState {
  name: string;
  mtu: number;
  up: boolean;
  /** "address/prefixlen", as `ip addr` listed them (only link-scope ones: others are refused) */
  addrs: string[];
}

export interface NicState {
  /** the zcprobe process that changed them */
  pid: number;
  /** the receiver namespace IF2 was moved into */
  netns: string;
  if1: IfState;
  if2: IfState;
}

/** `ip -j -d link show` / `ip -j addr show` entries, the fields used here. */
export interface IpLink { ifname: string; mtu: number; flags: string[]; link_type?: string; master?: string }
export interface IpAddr { ifname: string; addr_info?: { local: string; prefixlen: number; scope: string }[] }

export function validIfName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Why `name` must not be used (undefined: it may). */
export function nicRefusal(name: string, link: IpLink | undefined, addrs: IpAddr | undefined, defaultDevs: string[]): string | undefined {
  if (!validIfName(name)) return `"${name}" is not an interface name zcprobe accepts ([A-Za-z0-9_.-], at most 15)`;
  if (!link) return `interface ${name} does not exist in this network namespace`;
  if (link.link_type === 'loopback' || name === 'lo') return `${name} is the loopback interface`;
  if (defaultDevs.includes(name)) return `${name} carries a default route: the host uses it, refusing to move or readdress it`;
  if (link.master) return `${name} is a port of ${link.master}: the host uses it`;
  const used = (addrs?.addr_info ?? []).filter((a) => a.scope !== 'link');
  if (used.length) return `${name} has ${used.map((a) => `${a.local}/${a.prefixlen}`).join(', ')}: an address the host uses, refusing to move or readdress it`;
  return undefined;
}

export function ifState(link: IpLink, addrs: IpAddr | undefined): IfState {
  return { name: link.ifname, mtu: link.mtu, up: link.flags.includes('UP'), addrs: (addrs?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`) };
}

/** The state file: KEY=VALUE lines, readable by scripts/cleanup-netns.sh without a JSON parser. */
export function formatState(s: NicState): string {
  const lines = [`PID=${s.pid}`, `NETNS=${s.netns}`];
  for (const [k, i] of [['IF1', s.if1], ['IF2', s.if2]] as const)
    lines.push(`${k}=${i.name}`, `${k}_MTU=${i.mtu}`, `${k}_UP=${i.up ? 1 : 0}`, `${k}_ADDRS=${i.addrs.join(' ')}`);
  return lines.join('\n') + '\n';
}

export function parseState(text: string): NicState {
  const kv = new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const get = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined) throw new Error(`nic state: ${k} missing`);
    return v;
  };
  const iface = (k: string): IfState => {
    const name = get(k);
    if (!validIfName(name)) throw new Error(`nic state: bad interface name ${name}`);
    const mtu = Number(get(`${k}_MTU`));
    if (!Number.isInteger(mtu)) throw new Error(`nic state: bad ${k}_MTU`);
    const addrs = get(`${k}_ADDRS`).split(' ').filter(Boolean);
    if (addrs.some((a) => !/^[0-9a-fA-F.:]+\/\d+$/.test(a))) throw new Error(`nic state: bad ${k}_ADDRS`);
    return { name, mtu, up: get(`${k}_UP`) === '1', addrs };
  };
  const netns = get('NETNS');
  if (!/^zcprobe-[A-Za-z0-9-]+$/.test(netns)) throw new Error(`nic state: bad NETNS ${netns}`);
  return { pid: Number(get('PID')), netns, if1: iface('IF1'), if2: iface('IF2') };
}

export function stateFile(pid: number, n: number): string {
  return join(NIC_STATE_DIR, `nic-${pid}-${n}.state`);
}

/** Written atomically before any interface is touched. */
export function writeStateFile(file: string, s: NicState): void {
  mkdirSync(NIC_STATE_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, formatState(s), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function stateFiles(): string[] {
  try {
    return readdirSync(NIC_STATE_DIR).filter((f) => /^nic-\d+-\d+\.state$/.test(f)).map((f) => join(NIC_STATE_DIR, f));
  } catch {
    return [];
  }
}

export const readStateFile = (file: string): NicState => parseState(readFileSync(file, 'utf8'));
export const removeStateFile = (file: string): void => rmSync(file, { force: true });

/** One `ip` invocation of the restore; `tolerate` matches errors that mean "already so". */
export interface Step { args: string[]; tolerate?: RegExp }

const GONE = /Cannot find device|No such file or directory|does not exist|Invalid "netns" value/;

/**
 * The restore, in order: IF2 back from the receiver namespace into `homePid`'s (ours: the root one
 * the harness runs in), then for both: global addresses flushed (every global address is ours:
 * interfaces with one were refused), MTU, up/down, and the saved (link-scope) addresses re-added
 * where the kernel did not regenerate them.
 */
export function restoreSteps(s: NicState, homePid: number): Step[] {
  const steps: Step[] = [{ args: ['-n', s.netns, 'link', 'set', 'dev', s.if2.name, 'netns', String(homePid)], tolerate: GONE }];
  // A port that no longer exists (removed while zcprobe ran) has nothing left to restore.
  for (const i of [s.if1, s.if2]) {
    steps.push({ args: ['addr', 'flush', 'dev', i.name, 'scope', 'global'], tolerate: GONE });
    steps.push({ args: ['link', 'set', 'dev', i.name, 'mtu', String(i.mtu)], tolerate: GONE });
    steps.push({ args: ['link', 'set', 'dev', i.name, i.up ? 'up' : 'down'], tolerate: GONE });
    for (const a of i.addrs) steps.push({ args: ['addr', 'add', a, 'dev', i.name, ...(a.includes(':') ? ['nodad'] : [])], tolerate: /File exists|already assigned|Cannot find device/ });
  }
  return steps;
}
