// The tun transport carries TCP between two namespaces through zcrelay, injects and reports exactly the faults it is told, replays
// seeded faults, and leaves nothing behind on destroy, SIGINT, or SIGKILL (relay dies with its parent, stale namespaces removed).
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { native } from '../../native.ts';
import { probe } from '../probes.ts';
import { ReceiverProcess } from '../../roles/receiver/client.ts';
import { relayConfigLine, type LinkFaults } from '../../model/link-spec.ts';
import { listNetns, netnsPath, removeStaleTopologies } from './netns.ts';
import { createTunTopology, type TunTopology } from './tun.ts';
import type { LinkEvent } from './types.ts';

const FIXTURE = fileURLToPath(new URL('../../../test-support/fixtures/topology-child.ts', import.meta.url));
const tun = await probe('tun');
const before = tun.ok ? (await listNetns()).sort() : [];

const ipOk = (...args: string[]): boolean => spawnSync('ip', args, { stdio: 'ignore', timeout: 5000 }).status === 0;
const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** Sends `payload` from the sender's namespace to a receiver process in the receiver's, under the
 * given faults; returns what arrived, the link's events and the elapsed time. */
async function sendThrough(
  t: TunTopology, payload: Buffer, faults: LinkFaults = {},
): Promise<{ data: Buffer; events: LinkEvent[]; ms: number }> {
  await t.relay.configure(relayConfigLine(faults));
  await t.relay.takeEvents();
  const dir = mkdtempSync('/dev/shm/zcprobe-tun-test-');
  const rx = await ReceiverProcess.spawn({ host: t.receiverAddr, netns: t.receiverNetns });
  let fd = -1;
  try {
    const { result } = await rx.prepare({ id: 'tun', size: payload.length, delayMs: 0, ack: false, outFile: join(dir, 'rx'), timeoutMs: 30000 });
    const start = performance.now();
    fd = native.socket(t.family, { netns: netnsPath(t.senderNetns) });
    native.connect(fd, t.receiverAddr, rx.port);
    for (let off = 0; off < payload.length; ) off += native.write(fd, payload, off, payload.length - off);
    native.shutdown(fd, 1);
    const r = await result;
    const ms = performance.now() - start;
    return { data: r.data, events: (await t.relay.takeEvents()).events, ms };
  } finally {
    if (fd >= 0) native.close(fd);
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the fixture; resolves once it reported its topology. */
async function childWithTopology(): Promise<{
  child: ChildProcess;
  netns: string;
  receiverNetns: string;
  hostIf: string;
  relayPid: number;
  exit: Promise<NodeJS.Signals | number | null>;
}> {
  const child = spawn(process.execPath, ['--import=tsx', FIXTURE, '4', 'tun'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<NodeJS.Signals | number | null>((res) => child.once('exit', (code, sig) => res(sig ?? code)));
  const line = await Promise.race([
    new Promise<string>((res) => createInterface({ input: child.stdout }).once('line', res)),
    exit.then((how) => { throw new Error(`fixture exited early (${String(how)})`); }),
  ]);
  return { child, exit, ...(JSON.parse(line) as { netns: string; receiverNetns: string; hostIf: string; relayPid: number }) };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

if (!tun.ok) {
  test.skip(`tun transport tests skipped: ${tun.detail}`, () => {});
} else {
  for (const family of [4, 6] as const) {
    test.serial(`IPv${family}: TCP bytes from the sender's namespace reach the receiver's through the relay`, async (t) => {
      const topo = await createTunTopology({ family });
      try {
        const ns = await listNetns();
        t.true(ns.includes(topo.senderNetns) && ns.includes(topo.receiverNetns));
        t.true(ipOk('-n', topo.senderNetns, 'link', 'show', 'dev', topo.senderIf), 'sender device in the sender namespace');
        t.true(ipOk('-n', topo.receiverNetns, 'link', 'show', 'dev', topo.receiverIf), 'receiver device in the receiver namespace');
        t.false(ipOk('link', 'show', 'dev', topo.senderIf), 'nothing in the root namespace');
        const before = await topo.relay.stats();
        const payload = randomBytes(4 << 20);
        const got = await sendThrough(topo, payload);
        t.true(got.data.equals(payload), 'receiver got exactly the bytes sent');
        const after = await topo.relay.stats();
        // Every data byte crossed the relay: at least payload/MTU packets, and no drop anywhere.
        t.true(after.s2r.packets - before.s2r.packets >= payload.length / topo.mtu, `${after.s2r.packets - before.s2r.packets} packets relayed`);
        t.true(after.s2r.bytes - before.s2r.bytes > payload.length);
        t.deepEqual([after.s2r.dropped, after.s2r.errors, after.deviceA.txDropped], [0, 0, 0]);
        t.deepEqual(got.events, []);
      } finally {
        await topo.destroy();
      }
      const ns = await listNetns();
      t.false(ns.includes(topo.senderNetns) || ns.includes(topo.receiverNetns), 'destroy removed both namespaces');
      t.false(alive(topo.relay.pid), 'the relay is gone');
      await t.notThrowsAsync(topo.destroy(), 'destroy is idempotent');
    });
  }

  test.serial('faults: "#3" drops exactly data segment 3 (reported with its offset); TCP still delivers every byte', async (t) => {
    const topo = await createTunTopology({ family: 4 });
    try {
      const payload = randomBytes(1 << 20);
      const got = await sendThrough(topo, payload, { loss: '#3' });
      t.true(got.data.equals(payload));
      t.is(got.events.length, 1, JSON.stringify(got.events));
      const e = got.events[0]!;
      t.like(e, { kind: 'drop', cause: 'loss', dir: 's2r', segment: 3, retransmission: false });
      // With a full-sized first segments, #3 starts two segments in.
      t.is(e.offset, 2 * e.len);
    } finally {
      await topo.destroy();
    }
  });

  test.serial('faults: seeded loss replays the same segment numbers; another seed draws others', async (t) => {
    const topo = await createTunTopology({ family: 4, mtu: 1500 });
    try {
      const payload = randomBytes(2 << 20);
      const dropped = async (seed: number) => {
        const got = await sendThrough(topo, payload, { loss: '3%', seed });
        t.true(got.data.equals(payload));
        const seen = got.events.filter((e) => e.kind === 'drop').map((e) => e.segment!);
        return { seen, max: Math.max(...seen) };
      };
      const a = await dropped(7), b = await dropped(7), c = await dropped(8);
      t.true(a.seen.length > 5, `${a.seen.length} drops at 3% of ~1450 segments`);
      // Numbering is per connection; both runs drew the same numbers up to where both got.
      const upTo = Math.min(a.max, b.max);
      t.deepEqual(a.seen.filter((k) => k <= upTo), b.seen.filter((k) => k <= upTo));
      t.notDeepEqual(a.seen.slice(0, 5), c.seen.slice(0, 5));
    } finally {
      await topo.destroy();
    }
  });

  test.serial('faults: reorder "#2" delivers segment 2 after segment 3; delay and rate slow the link as asked', async (t) => {
    const topo = await createTunTopology({ family: 4 });
    try {
      const payload = randomBytes(2 << 20);
      const re = await sendThrough(topo, payload, { reorder: '#2' });
      t.true(re.data.equals(payload));
      t.like(re.events, [{ kind: 'reorder', cause: 'reorder', segment: 2 }]);
      // 20 ms each way: the handshake alone (SYN out, SYN-ACK back) takes >= 40 ms.
      const fd = native.socket(4, { netns: netnsPath(topo.senderNetns) });
      try {
        await topo.relay.configure(relayConfigLine({ delayMs: 20 }));
        const t0 = performance.now();
        t.throws(() => native.connect(fd, topo.receiverAddr, 9), { code: 'ECONNREFUSED' });
        t.true(performance.now() - t0 >= 40, `${(performance.now() - t0).toFixed(1)} ms for SYN + RST`);
      } finally {
        native.close(fd);
      }
      // 2 MiB at 40 Mbit/s is 420 ms of serialization.
      const slow = await sendThrough(topo, payload, { rate: '40mbit' });
      t.true(slow.data.equals(payload));
      t.true(slow.ms >= 400, `2 MiB took ${slow.ms.toFixed(0)} ms at 40mbit`);
      t.true(slow.ms < 3000, `2 MiB took ${slow.ms.toFixed(0)} ms at 40mbit`);
    } finally {
      await topo.destroy();
    }
  });

  test.serial('sockets made in the sender namespace (TCP and the UDP sentinel) reach the receiver from the tun address', async (t) => {
    const topo = await createTunTopology({ family: 6 });
    const fd = native.socket(6, { netns: netnsPath(topo.senderNetns) });
    try {
      t.throws(() => native.connect(fd, topo.receiverAddr, 9), { code: 'ECONNREFUSED' });
      const dgram = native.socket(6, { type: 'dgram', netns: netnsPath(topo.senderNetns) });
      t.is(native.sendto(dgram, Buffer.from('x'), 0, 1, topo.receiverAddr, 9), 1);
      native.connect(dgram, topo.receiverAddr, 9); // UDP: only picks the route and source address
      t.like(native.getsockname(dgram), { address: topo.senderAddr });
      native.close(dgram);
    } finally {
      native.close(fd);
      await topo.destroy();
    }
  });

  test.serial('a child interrupted with SIGINT removes both namespaces and its relay', async (t) => {
    const c = await childWithTopology();
    t.true((await listNetns()).includes(c.netns));
    c.child.kill('SIGINT');
    t.is(await c.exit, 'SIGINT', 'the cleanup registry re-raises the signal after cleaning up');
    const ns = await listNetns();
    t.false(ns.includes(c.netns) || ns.includes(c.receiverNetns));
    await until('the relay to exit', () => !alive(c.relayPid));
    t.pass();
  });

  test.serial('a SIGKILLed child: its relay dies with it (devices gone), removeStaleTopologies removes the namespaces', async (t) => {
    const c = await childWithTopology();
    c.child.kill('SIGKILL');
    t.is(await c.exit, 'SIGKILL');
    await until('the relay to die with its parent (PR_SET_PDEATHSIG)', () => !alive(c.relayPid));
    await until(`${c.hostIf} to vanish with the relay`, () => !ipOk('-n', c.netns, 'link', 'show', 'dev', c.hostIf));
    const ns = await listNetns();
    t.true(ns.includes(c.netns) && ns.includes(c.receiverNetns), 'nothing could remove the namespaces after SIGKILL');
    const removed = await removeStaleTopologies();
    t.true(removed.includes(c.netns) && removed.includes(c.receiverNetns));
    t.false((await listNetns()).includes(c.netns));
  });

  test.serial('ip netns list is the same as before this file ran', async (t) => {
    t.deepEqual((await listNetns()).sort(), before);
  });
}
