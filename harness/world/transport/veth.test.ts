// The veth transport carries real TCP bytes from the root namespace into its own namespace, shapes
// with tbf when asked, and never leaves a namespace behind: not on destroy, not on SIGINT, and
// after SIGKILL removeStaleTopologies finds it.
import test from 'ava';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ReceiverProcess } from '../../roles/receiver/client.ts';
import { openTransport } from './index.ts';
import { listNetns, removeStaleTopologies } from './netns.ts';
import { createVethTopology, vethUnavailableReason, type VethTopology } from './veth.ts';

const FIXTURE = fileURLToPath(new URL('../../../test-support/fixtures/topology-child.ts', import.meta.url));
const reason = await vethUnavailableReason();
const before = reason ? [] : (await listNetns()).sort();

const ip = (...args: string[]): { ok: boolean; out: string } => {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
};

/** Sends `payload` from the root namespace to a ReceiverProcess inside the topology's namespace. */
async function sendThrough(t: VethTopology, payload: Buffer): Promise<{ data: Buffer; peer: string; ms: number }> {
  const dir = mkdtempSync('/dev/shm/zcprobe-veth-test-');
  const rx = await ReceiverProcess.spawn({ host: t.nsAddr, netns: t.netns });
  try {
    const c = { id: 'veth', size: payload.length, delayMs: 0, ack: false, outFile: join(dir, 'rx'), timeoutMs: 20000 };
    const { result } = await rx.prepare(c);
    const start = Date.now();
    const sock = connect({ host: t.nsAddr, port: rx.port, localAddress: t.hostAddr });
    sock.on('error', () => {}); // a failure shows up as the receiver's error/timeout below
    sock.end(payload);
    const r = await result;
    sock.destroy();
    return { data: r.data, peer: r.peer.address, ms: Date.now() - start };
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the fixture; resolves once it reported its topology. */
async function childWithTopology(): Promise<{
  child: ChildProcess; netns: string; hostIf: string; exit: Promise<NodeJS.Signals | number | null>;
}> {
  const child = spawn(process.execPath, ['--import=tsx', FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<NodeJS.Signals | number | null>((res) => child.once('exit', (code, sig) => res(sig ?? code)));
  const line = await Promise.race([
    new Promise<string>((res) => createInterface({ input: child.stdout }).once('line', res)),
    exit.then((how) => { throw new Error(`fixture exited early (${String(how)})`); }),
  ]);
  const { netns, hostIf } = JSON.parse(line) as { netns: string; hostIf: string };
  return { child, netns, hostIf, exit };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

if (reason) {
  test.skip(`veth transport tests skipped: ${reason}`, () => {});
} else {
  for (const family of [4, 6] as const) {
    test.serial(`IPv${family}: TCP bytes from the root namespace reach a receiver in the namespace via the veth`, async (t) => {
      const topo = await createVethTopology({ family });
      try {
        t.true((await listNetns()).includes(topo.netns));
        t.regex(ip('-n', topo.netns, 'addr', 'show', 'dev', topo.nsIf).out, new RegExp(topo.nsAddr.replace(/\./g, '\\.')));
        // The RULE: the kernel routes nsAddr into our veth, not out of eth0.
        t.is((JSON.parse(ip('-j', 'route', 'get', topo.nsAddr).out) as { dev: string }[])[0]!.dev, topo.hostIf);
        const payload = randomBytes(1 << 20);
        const got = await sendThrough(topo, payload);
        t.true(got.data.equals(payload), 'receiver got exactly the bytes sent');
        t.is(got.peer, topo.hostAddr, 'the connection came from the root-side veth address');
      } finally {
        await topo.destroy();
      }
      t.false((await listNetns()).includes(topo.netns), 'destroy removed the namespace');
      t.false(ip('link', 'show', 'dev', topo.hostIf).ok, 'destroy removed the veth');
      await t.notThrowsAsync(topo.destroy(), 'destroy is idempotent');
    });
  }

  test.serial('rate: tbf sits on the host-side veth and actually limits throughput', async (t) => {
    const topo = await createVethTopology({ family: 4, rate: '100mbit' });
    try {
      const qdiscs = spawnSync('tc', ['qdisc', 'show', 'dev', topo.hostIf], { encoding: 'utf8' }).stdout;
      t.regex(qdiscs, /qdisc tbf .*rate 100Mbit/);
      // 5 MB at 12.5 MB/s is 400 ms minus one 128 KiB burst; unshaped it takes ~60 ms here.
      const got = await sendThrough(topo, randomBytes(5_000_000));
      t.true(got.ms >= 300, `5 MB took ${got.ms} ms through a 100mbit tbf`);
    } finally {
      await topo.destroy();
    }
  });

  test.serial('a bad rate is rejected before anything is created', async (t) => {
    const ns = await listNetns();
    await t.throwsAsync(createVethTopology({ family: 4, rate: '100 mbit; reboot' }), { message: /rate/ });
    t.deepEqual(await listNetns(), ns);
  });

  test.serial('openTransport: loopback and veth endpoints', async (t) => {
    const lo = await openTransport('loopback', { family: 6 });
    t.like(lo, { kind: 'loopback', receiverHost: '::1', captureIface: 'lo', receiverNetns: undefined });
    await lo.close();
    await t.throwsAsync(openTransport('loopback', { family: 4, rate: '1mbit' }));
    const v = await openTransport('veth', { family: 6 });
    try {
      t.is(v.kind, 'veth');
      t.true((await listNetns()).includes(v.receiverNetns!));
      t.true(ip('link', 'show', 'dev', v.captureIface).ok, 'capture iface is in the root namespace');
      t.regex(v.receiverHost, /^fd00:7a63:/);
    } finally {
      await v.close();
    }
    t.false((await listNetns()).includes(v.receiverNetns!));
  });

  test.serial('removeStaleTopologies removes namespaces of dead pids only', async (t) => {
    const dead = await new Promise<number>((res) => { const c = execFile('true'); c.once('exit', () => res(c.pid!)); });
    const stale = [`zcprobe-${dead}-0`, `zcprobe-probe-${dead}`];
    const live = `zcprobe-${process.pid}-99999`;
    try {
      for (const n of [...stale, live]) t.true(ip('netns', 'add', n).ok, n);
      t.deepEqual((await removeStaleTopologies()).sort(), [...stale].sort());
      const now = await listNetns();
      t.false(stale.some((n) => now.includes(n)));
      t.true(now.includes(live), "a live pid's namespace is kept");
    } finally {
      for (const n of [...stale, live]) ip('netns', 'del', n);
    }
  });

  test.serial('a child interrupted with SIGINT removes its namespace and veth', async (t) => {
    const c = await childWithTopology();
    t.true((await listNetns()).includes(c.netns));
    c.child.kill('SIGINT');
    t.is(await c.exit, 'SIGINT', 'the cleanup registry re-raises the signal after cleaning up');
    t.false((await listNetns()).includes(c.netns));
    t.false(ip('link', 'show', 'dev', c.hostIf).ok);
  });

  test.serial('a SIGKILLed child leaves its namespace; removeStaleTopologies removes it', async (t) => {
    const c = await childWithTopology();
    c.child.kill('SIGKILL');
    t.is(await c.exit, 'SIGKILL');
    t.true((await listNetns()).includes(c.netns), 'nothing could clean up after SIGKILL');
    t.true((await removeStaleTopologies()).includes(c.netns));
    t.false((await listNetns()).includes(c.netns));
    // The kernel destroys the namespace, and the veth with it, asynchronously.
    await until(`${c.hostIf} to disappear`, () => !ip('link', 'show', 'dev', c.hostIf).ok);
    t.pass();
  });

  test.serial('ip netns list is the same as before this file ran', async (t) => {
    t.deepEqual((await listNetns()).sort(), before);
  });
}
