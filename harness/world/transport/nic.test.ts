// The nic transport with a veth pair made here standing in for two cabled ports: bytes cross, a port the host uses is refused,
// and both ports come back as they were on close, after SIGINT, and after SIGKILL via scripts/cleanup.sh or removeStaleTopologies.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { probe } from '../probes.ts';
import { ReceiverProcess } from '../../roles/receiver/client.ts';
import { Session } from '../../session/session.ts';
import { makeExperiment } from '../../model/experiment.ts';
import { listNetns, removeStaleTopologies } from './netns.ts';
import { createNicTopology, parseNicPair } from './nic.ts';
import { formatState, nicRefusal, parseState, restoreSteps, stateFiles, type NicState } from '../../host/nic-state.ts';
import { judgeCase } from '../../evidence/judge.ts';

const FIXTURE = fileURLToPath(new URL('../../../test-support/fixtures/topology-child.ts', import.meta.url));
const CLEANUP = fileURLToPath(new URL('../../../scripts/cleanup-netns.sh', import.meta.url));
// Probed before the first declaration: ava needs every test declared synchronously after it.
const netns = await probe('netns');

// ---- pure parts ----

test('refusals: missing, loopback, default route, bridge port, an address the host uses', (t) => {
  const link = { ifname: 'p1', mtu: 1500, flags: ['UP'] };
  const ll = { ifname: 'p1', addr_info: [{ local: 'fe80::1', prefixlen: 64, scope: 'link' }] };
  t.is(nicRefusal('p1', link, ll, ['eth0']), undefined);
  t.regex(nicRefusal('p1', undefined, undefined, [])!, /does not exist/);
  t.regex(nicRefusal('lo', { ...link, ifname: 'lo', link_type: 'loopback' }, undefined, [])!, /loopback/);
  t.regex(nicRefusal('p1', link, ll, ['p1'])!, /carries a default route/);
  t.regex(nicRefusal('p1', { ...link, master: 'br0' }, ll, [])!, /port of br0/);
  t.regex(nicRefusal('p1', link, { ifname: 'p1', addr_info: [{ local: '192.0.2.7', prefixlen: 24, scope: 'global' }] }, [])!, /192\.0\.2\.7\/24: an address the host uses/);
  t.regex(nicRefusal('p1;reboot', link, ll, [])!, /not an interface name/);
  t.throws(() => parseNicPair('a'), { message: /--nic-pair IF1,IF2/ });
  t.throws(() => parseNicPair('a,a'), { message: /twice/ });
  t.deepEqual(parseNicPair(' a , b '), ['a', 'b']);
});

const STATE: NicState = {
  pid: 42, netns: 'zcprobe-42-3',
  if1: { name: 'p1', mtu: 1400, up: true, addrs: ['fe80::1/64'] },
  if2: { name: 'p2', mtu: 9000, up: false, addrs: [] },
};

test('the state file round-trips and rejects what it cannot trust', (t) => {
  t.deepEqual(parseState(formatState(STATE)), STATE);
  t.throws(() => parseState(formatState(STATE).replace('IF2=p2', 'IF2=p2;rm')), { message: /bad interface name/ });
  t.throws(() => parseState(formatState(STATE).replace('NETNS=zcprobe-42-3', 'NETNS=default')), { message: /bad NETNS/ });
  t.throws(() => parseState('PID=1\n'), { message: /missing/ });
});

test('restore steps: IF2 comes home first, then each port: global addresses, MTU, up/down, saved addresses', (t) => {
  const steps = restoreSteps(STATE, 7).map((s) => s.args.join(' '));
  t.deepEqual(steps, [
    '-n zcprobe-42-3 link set dev p2 netns 7',
    'addr flush dev p1 scope global', 'link set dev p1 mtu 1400', 'link set dev p1 up', 'addr add fe80::1/64 dev p1 nodad',
    'addr flush dev p2 scope global', 'link set dev p2 mtu 9000', 'link set dev p2 down',
  ]);
});

// ---- live, with a veth pair standing in for two cabled ports ----

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });

interface Snapshot { inRoot: boolean; mtu: number; up: boolean; addrs: string[] }
function snapshot(name: string): Snapshot {
  const link = (JSON.parse(ip('-j', 'link', 'show').stdout || '[]') as { ifname: string; mtu: number; flags: string[] }[]).find((l) => l.ifname === name);
  const addrs = (JSON.parse(ip('-j', 'addr', 'show').stdout || '[]') as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[]).find((l) => l.ifname === name);
  return { inRoot: !!link, mtu: link?.mtu ?? 0, up: link?.flags.includes('UP') ?? false, addrs: (addrs?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`).sort() };
}

async function settled(names: string[], want?: Snapshot[], ms = 4000): Promise<Snapshot[]> {
  // Link-local addresses appear (and leave "tentative") asynchronously after a port goes up.
  let last: Snapshot[] = [];
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const now = names.map(snapshot);
    if (want ? JSON.stringify(now) === JSON.stringify(want) : JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return names.map(snapshot);
}

/** A veth pair made here (not by zcprobe), with an MTU and link-local addresses like real ports. */
async function standIn(): Promise<{ pair: [string, string]; before: Snapshot[]; remove: () => void }> {
  const tag = randomBytes(3).toString('hex');
  const pair: [string, string] = [`zcnA${tag}`, `zcnB${tag}`];
  if (ip('link', 'add', pair[0], 'mtu', '1400', 'type', 'veth', 'peer', 'name', pair[1], 'mtu', '1400').status !== 0) throw new Error('cannot create the stand-in veth pair');
  ip('link', 'set', pair[0], 'up');
  ip('link', 'set', pair[1], 'up');
  await settled(pair, undefined, 1500);
  const before = await settled(pair);
  return { pair, before, remove: () => void ip('link', 'del', pair[0]) };
}

async function child(
  pair: [string, string],
): Promise<{ child: ChildProcess; netns: string; exit: Promise<NodeJS.Signals | number | null> }> {
  const c = spawn(process.execPath, ['--import=tsx', FIXTURE, '4', 'nic', pair.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<NodeJS.Signals | number | null>((res) => c.once('exit', (code, sig) => res(sig ?? code)));
  const line = await Promise.race([
    new Promise<string>((res) => createInterface({ input: c.stdout }).once('line', res)),
    exit.then((how) => { throw new Error(`fixture exited early (${String(how)})`); }),
  ]);
  return { child: c, exit, netns: (JSON.parse(line) as { netns: string }).netns };
}

if (!netns.ok) {
  test.skip(`nic transport tests skipped: ${netns.detail}`, () => {});
} else {
  test.serial('bytes cross the pair into the receiver namespace; close restores both ports exactly', async (t) => {
    const s = await standIn();
    try {
      const topo = await createNicTopology({ family: 4, pair: s.pair });
      try {
        t.false(snapshot(s.pair[1]).inRoot, 'IF2 moved into the receiver namespace');
        t.true(ip('-n', topo.netns, 'link', 'show', 'dev', s.pair[1]).status === 0);
        t.true(stateFiles().some((f) => f.includes(`nic-${process.pid}-`)), 'state file written');
        const dir = mkdtempSync('/dev/shm/zcprobe-nic-test-');
        const rx = await ReceiverProcess.spawn({ host: topo.nsAddr, netns: topo.netns });
        try {
          const payload = randomBytes(1 << 20);
          const { result } = await rx.prepare({ id: 'nic', size: payload.length, delayMs: 0, ack: false, outFile: join(dir, 'rx'), timeoutMs: 20000 });
          const { connect } = await import('node:net');
          const sock = connect({ host: topo.nsAddr, port: rx.port, localAddress: topo.hostAddr });
          sock.on('error', () => {});
          sock.end(payload);
          t.true((await result).data.equals(payload), 'the receiver got every byte through the pair');
          sock.destroy();
        } finally {
          await rx.close();
          rmSync(dir, { recursive: true, force: true });
        }
      } finally {
        await topo.destroy();
      }
      t.deepEqual(await settled(s.pair, s.before), s.before, 'both ports as before: namespace, MTU, up, addresses');
      t.false((await listNetns()).includes(topo.netns));
      t.false(stateFiles().some((f) => f.includes(`nic-${process.pid}-`)), 'state file removed');
    } finally {
      s.remove();
    }
  });

  test.serial('a port the host uses (an address on it) is refused before anything changes', async (t) => {
    const s = await standIn();
    try {
      ip('addr', 'add', '198.51.100.7/32', 'dev', s.pair[0]);
      const ns = await listNetns();
      await t.throwsAsync(createNicTopology({ family: 4, pair: s.pair }), { message: new RegExp(`${s.pair[0]} has 198\\.51\\.100\\.7/32: an address the host uses`) });
      t.deepEqual(await listNetns(), ns, 'no namespace made');
      t.true(snapshot(s.pair[1]).inRoot, 'IF2 not moved');
    } finally {
      s.remove();
    }
  });

  test.serial('a session over the pair runs a case (zcprobe run --transport nic) and gives the ports back', async (t) => {
    const s = await standIn();
    try {
      const session = await Session.open({ transport: 'nic', family: 6, nicPair: s.pair.join(','), runDir: mkdtempSync('/tmp/zcprobe-nic-run-') });
      try {
        const r = await judgeCase(session, makeExperiment({ method: 'write', size: 300_000, transport: 'nic', family: 6 }));
        t.is(r.verdict, 'clean', r.reasons.join('; '));
        t.is(r.transport, 'nic');
      } finally {
        await session.close();
        rmSync(session.runDir, { recursive: true, force: true });
      }
      t.deepEqual(await settled(s.pair, s.before), s.before);
    } finally {
      s.remove();
    }
  });

  test.serial('SIGINT: the cleanup registry restores both ports', async (t) => {
    const s = await standIn();
    try {
      const c = await child(s.pair);
      t.false(snapshot(s.pair[1]).inRoot);
      c.child.kill('SIGINT');
      t.is(await c.exit, 'SIGINT');
      t.deepEqual(await settled(s.pair, s.before), s.before);
      t.false((await listNetns()).includes(c.netns));
    } finally {
      s.remove();
    }
  });

  test.serial('SIGKILL: nothing restores; scripts/cleanup-netns.sh does, from the state file', async (t) => {
    const s = await standIn();
    try {
      const c = await child(s.pair);
      c.child.kill('SIGKILL');
      t.is(await c.exit, 'SIGKILL');
      t.false(snapshot(s.pair[1]).inRoot, 'IF2 is still in the dead run\'s namespace');
      const out = spawnSync('bash', [CLEANUP], { encoding: 'utf8', timeout: 30000 });
      t.is(out.status, 0, out.stderr);
      t.regex(out.stdout, new RegExp(`restored nic pair ${s.pair.join(',')}`));
      t.deepEqual(await settled(s.pair, s.before), s.before);
      t.false((await listNetns()).includes(c.netns));
    } finally {
      s.remove();
    }
  });

  test.serial('SIGKILL: removeStaleTopologies restores the ports before it deletes the namespace', async (t) => {
    const s = await standIn();
    try {
      const c = await child(s.pair);
      c.child.kill('SIGKILL');
      await c.exit;
      t.true((await removeStaleTopologies()).includes(c.netns));
      t.deepEqual(await settled(s.pair, s.before), s.before);
      t.false(stateFiles().some((f) => existsSync(f) && f.includes(`nic-${c.child.pid}-`)));
    } finally {
      s.remove();
    }
  });
}
