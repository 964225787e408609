// The nic transport (--nic-pair IF1,IF2): IF1 stays with the sender, IF2 moves into a fresh receiver namespace, private /30 or ULA /64.
// Both ports' state is saved first and restored on close, error, exit, Ctrl-C or after SIGKILL; ports the host uses are refused.
import { spawnSync } from 'node:child_process';
import { registerCleanup } from '../../host/exit-hooks.ts';
import { CMD_TIMEOUT_MS, ENV, nameTaken, NameTaken, netnsName, nextIndex, run, runGone } from './netns.ts';
import {
  ifState, nicRefusal, removeStateFile, restoreSteps, stateFile, writeStateFile,
  type IfState, type IpAddr, type IpLink, type NicState, type Step,
} from '../../host/nic-state.ts';
import { pickSubnet, waitUsable } from './subnet.ts';
import type { TransportEndpoint, TransportOptions } from './types.ts';

export function parseNicPair(text: string | undefined): [string, string] {
  const parts = (text ?? '').split(',').map((s) => s.trim());
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error('the nic transport needs --nic-pair IF1,IF2 (two interfaces cabled to each other)');
  if (parts[0] === parts[1]) throw new Error(`--nic-pair: ${parts[0]} twice; want two different interfaces`);
  return [parts[0], parts[1]];
}

async function inspect(name: string): Promise<{ link?: IpLink; addrs?: IpAddr }> {
  const link = (JSON.parse((await run('ip', ['-j', '-d', 'link', 'show'])) || '[]') as IpLink[]).find((l) => l.ifname === name);
  const addrs = (JSON.parse((await run('ip', ['-j', 'addr', 'show'])) || '[]') as IpAddr[]).find((a) => a.ifname === name);
  return { link, addrs };
}

async function defaultRouteDevs(): Promise<string[]> {
  const devs: string[] = [];
  for (const f of ['-4', '-6']) {
    const routes = JSON.parse((await run('ip', ['-j', f, 'route', 'show', 'default', 'table', 'all'])) || '[]') as { dev?: string; nexthops?: { dev?: string }[] }[];
    for (const r of routes) devs.push(...[r.dev, ...(r.nexthops ?? []).map((h) => h.dev)].filter((d): d is string => !!d));
  }
  return devs;
}

/** Both interfaces' state, or an Error naming every reason one of them cannot be used. */
export async function inspectPair(if1: string, if2: string): Promise<{ if1: IfState; if2: IfState }> {
  const defaults = await defaultRouteDevs();
  const [a, b] = [await inspect(if1), await inspect(if2)];
  const why = [nicRefusal(if1, a.link, a.addrs, defaults), nicRefusal(if2, b.link, b.addrs, defaults)].filter(Boolean);
  if (why.length) throw new Error(`--nic-pair ${if1},${if2}: ${why.join('; ')}`);
  return { if1: ifState(a.link!, a.addrs), if2: ifState(b.link!, b.addrs) };
}

function runStepSync(step: Step): void {
  const r = spawnSync('ip', step.args, { timeout: CMD_TIMEOUT_MS, encoding: 'utf8', env: ENV });
  const err = r.error?.message ?? (r.status !== 0 ? r.stderr.trim() || `exit ${r.status}` : '');
  if (err && !step.tolerate?.test(err)) throw new Error(`ip ${step.args.join(' ')}: ${err}`);
}

async function runStep(step: Step): Promise<void> {
  await run('ip', step.args).catch((e: Error) => { if (!step.tolerate?.test(e.message)) throw e; });
}

/** Restores both interfaces (every step is tried; the first failure is thrown at the end). */
export async function restoreNics(s: NicState): Promise<void> {
  let first: Error | undefined;
  for (const step of restoreSteps(s, process.pid)) await runStep(step).catch((e: Error) => { first ??= e; });
  if (first) throw first;
}

export interface NicTopology {
  netns: string; if1: string; if2: string; hostAddr: string; nsAddr: string; family: 4 | 6;
  saved: NicState;
  /** Gives both interfaces back and deletes the namespace; idempotent. */
  destroy(): Promise<void>;
}

async function build(n: number, family: 4 | 6, if1: string, if2: string): Promise<NicTopology> {
  const saved0 = await inspectPair(if1, if2);
  const netns = netnsName(n);
  const saved: NicState = { pid: process.pid, netns, ...saved0 };
  const file = stateFile(process.pid, n);
  writeStateFile(file, saved); // before the first change: a SIGKILL from here on is recoverable
  let made = false;
  let gone = false;
  const teardownSync = (): void => {
    if (gone) return;
    for (const step of restoreSteps(saved, process.pid)) {
      try { runStepSync(step); } catch (e) { process.stderr.write(`nic restore: ${(e as Error).message}\n`); }
    }
    if (made) runStepSync({ args: ['netns', 'del', netns], tolerate: /No such file|does not exist/ });
    removeStateFile(file);
    gone = true;
  };
  const unregister = registerCleanup(`nic ${if1},${if2}`, teardownSync);
  let destroyP: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroyP ??= (async () => {
    if (gone) return;
    // IF2 must be back before the namespace goes: deleting it with a virtual port inside would
    // destroy the port (a physical one would come back without its configuration).
    await restoreNics(saved);
    if (made) await runGone(['netns', 'del', netns]);
    removeStateFile(file);
    gone = true;
    unregister();
  })().catch((e: unknown) => { destroyP = undefined; throw e; }));

  try {
    await run('ip', ['netns', 'add', netns]).catch((e: Error) => { throw nameTaken(e); });
    made = true;
    await run('ip', ['link', 'set', 'dev', if2, 'netns', netns]);
    const t = await pickSubnet(family, ((process.pid & 255) << 6) + n);
    const nodad = family === 6 ? ['nodad'] : [];
    await run('ip', ['addr', 'add', `${t.host}/${t.plen}`, 'dev', if1, ...nodad]);
    await run('ip', ['link', 'set', 'dev', if1, 'up']);
    await run('ip', ['-n', netns, 'addr', 'add', `${t.ns}/${t.plen}`, 'dev', if2, ...nodad]);
    await run('ip', ['-n', netns, 'link', 'set', 'dev', if2, 'up']);
    await run('ip', ['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
    await waitUsable(t, if1, 'nic');
    return { netns, if1, if2, hostAddr: t.host, nsAddr: t.ns, family, saved, destroy };
  } catch (e) {
    await destroy().catch((x: Error) => { (e as Error).message += `; restoring the interfaces failed too: ${x.message}`; });
    throw e;
  }
}

export async function createNicTopology(opts: { family: 4 | 6; pair: [string, string] }): Promise<NicTopology> {
  for (let attempt = 0; ; attempt++) {
    try { return await build(nextIndex(), opts.family, opts.pair[0], opts.pair[1]); } catch (e) {
      if (!(e instanceof NameTaken) || attempt >= 4) throw e;
    }
  }
}

/** The `nic` transport module. */
export async function openNic(opts: TransportOptions): Promise<TransportEndpoint> {
  if (opts.rate !== undefined) throw new Error('rate is a veth option');
  const t = await createNicTopology({ family: opts.family, pair: parseNicPair(opts.nicPair) });
  return {
    kind: 'nic', receiverHost: t.nsAddr, receiverNetns: t.netns, senderHost: t.hostAddr,
    captures: [
      { side: 'sender', iface: t.if1, sentinelHost: t.nsAddr },
      // the receiving port: what crossed the cable, read after the sending NIC's DMA
      { side: 'receiver', arrival: true, iface: t.if2, netns: t.netns, sentinelHost: t.nsAddr },
    ],
    captureIface: t.if1,
    close: () => t.destroy(),
    describe: `nic ${t.if1} ${t.hostAddr} -> ${t.netns}/${t.if2} ${t.nsAddr} (restored on exit)`,
    pageOwnership: "nic: the receiving port DMAs into the receiver's own buffers, so the receiver never reads the sender's pages; the sender's stay referenced until TCP has them ACKed (and, with TSO, until the NIC has read them)",
  };
}
