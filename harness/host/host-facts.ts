// The facts of one end of a path that a verdict depends on: kernel, the interface the case's
// packets use, its driver (ethtool -i), offloads (ethtool -k), MTU and addresses. Read in the
// calling process's network namespace; a missing tool is recorded as such, never guessed.
import { execFile } from 'node:child_process';
import { hostname, release } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };
const TIMEOUT_MS = 5000;

export interface HostFacts {
  hostname: string;
  kernel: string;
  iface: string;
  mtu: number | null;
  /** address/prefix of the interface */
  addresses: string[];
  /** ethtool -i: driver, version, firmware-version, bus-info, … (null: not read) */
  driver: Record<string, string> | null;
  /** ethtool -k: feature → "on" | "off" | "on [fixed]" */
  offloads: Record<string, string>;
  /** what could not be read, and why */
  unread: string[];
}

async function tool(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: TIMEOUT_MS, env: ENV });
  return stdout;
}

/** "key: value" lines (ethtool -i, and ethtool -k below its header line). */
function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9_-][A-Za-z0-9 _-]*?):\s*(.*)$/.exec(line);
    if (m && m[2] !== undefined && m[2] !== '') out[m[1]!] = m[2].trim();
  }
  return out;
}

/** Both ends of a path, in every case report. */
export interface HostPair {
  sender: HostFacts;
  receiver: HostFacts | 'same host';
}

export async function hostFacts(iface: string): Promise<HostFacts> {
  const facts: HostFacts = {
    hostname: hostname(), kernel: release(), iface, mtu: null, addresses: [], driver: null, offloads: {}, unread: [],
  };
  const why = (what: string, e: unknown) => facts.unread.push(`${what}: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
  await Promise.all([
    tool('ip', ['-j', 'addr', 'show', 'dev', iface]).then((out) => {
      const [link] = JSON.parse(out) as { mtu?: number; addr_info?: { local: string; prefixlen: number }[] }[];
      facts.mtu = link?.mtu ?? null;
      facts.addresses = (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
    }, (e) => why('ip addr', e)),
    tool('ethtool', ['-i', iface]).then((out) => void (facts.driver = keyValues(out)), (e) => why('ethtool -i', e)),
    tool('ethtool', ['-k', iface]).then((out) => {
      const kv = keyValues(out.split('\n').slice(1).join('\n'));
      facts.offloads = kv;
    }, (e) => why('ethtool -k', e)),
  ]);
  return facts;
}

/** The interface this namespace's route to `address` leaves by (lo for a local address). */
export async function ifaceToward(address: string): Promise<string> {
  const routes = JSON.parse(await tool('ip', ['-j', 'route', 'get', address])) as { dev?: string }[];
  const dev = routes[0]?.dev;
  if (!dev) throw new Error(`no route to ${address}`);
  return dev;
}

/** One line: "host (kernel) iface addr, driver X, mtu N". */
export function describeHost(h: HostFacts): string {
  const driver = h.driver?.driver ? `driver ${h.driver.driver}` : 'driver unknown';
  return `${h.hostname} (${h.kernel}) ${h.iface} ${h.addresses.join(' ') || 'no address'}, ${driver}, mtu ${h.mtu ?? '?'}`;
}
