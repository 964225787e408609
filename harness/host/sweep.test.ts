// The crash sweep removes exactly what dead owners left — every kind of resource a ledger can
// name — and nothing of a live owner, nor a resource whose pid now belongs to a newer process.
// Root only: real namespaces, links, mounts, loop devices and processes.
import test from 'ava';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLedgers, writeLedgerFor, type LedgerFile, type Resource } from './ledger.ts';
import { couldOwn, isAlive, selfOwner, startTicksOf, startedAtMs } from './owner.ts';
import { PRE_LEDGER_NAME_RE, preLedgerOwnerGone, sweepHost } from './sweep.ts';

const sh = (cmd: string, ...args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
};
const deadPid = () => new Promise<number>((res) => { const c = execFile('true'); c.once('exit', () => res(c.pid!)); });
const netnsList = () => sh('ip', 'netns', 'list').out;
const linkIndex = (name: string): number | null => {
  const r = sh('ip', '-j', 'link', 'show', 'dev', name);
  return r.ok ? (JSON.parse(r.out) as { ifindex: number }[])[0]!.ifindex : null;
};
const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
const loopOf = (file: string) => sh('losetup', '-j', file).out.split(':')[0] || null;

const why = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/dev/loop-control') ? 'no loop devices (/dev/loop-control)' : null;

/** A private state directory per test: sweeps of other zcprobe runs never see these ledgers. */
function privateState(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-sweep-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('pre-ledger work dirs (zcprobe-XXXXXX, no pid): swept only once every running node process started after them', async (t) => {
  for (const n of ['zcprobe-a1B2c3', 'zcprobe-XyZ789']) t.true(PRE_LEDGER_NAME_RE.test(n), n);
  // Names that carry a pid (or are all digits, like one) are the pid rule's, never this one's.
  for (const n of ['zcprobe-123456', 'zcprobe-4242-session-abcdef', 'zcprobe-fs-4242-Ab12Cd', 'zcprobe-abc', 'zcprobe-live.lock'])
    t.false(PRE_LEDGER_NAME_RE.test(n), n);
  const made = Date.parse('2026-12-01T10:00:00Z');
  t.true(preLedgerOwnerGone(made, [made + 60_000, made + 3_600_000]), 'every node process started later: the owner is gone');
  t.false(preLedgerOwnerGone(made, [made + 60_000, made - 1]), 'one node process was already running: it may be the owner');
  t.false(preLedgerOwnerGone(made, [made + 1500]), 'within the start-time slack: kept');
  // Live: a fresh pre-ledger-named dir is kept, since this very process (node) started before it.
  const base = mkdtempSync(join(tmpdir(), 'zcprobe-sweep-base-'));
  const dir = join(base, 'zcprobe-Qw3rTy');
  mkdirSync(dir);
  const saved = process.env.ZCPROBE_WORKDIR;
  process.env.ZCPROBE_WORKDIR = base;
  t.teardown(() => {
    if (saved === undefined) delete process.env.ZCPROBE_WORKDIR;
    else process.env.ZCPROBE_WORKDIR = saved;
    rmSync(base, { recursive: true, force: true });
  });
  const state = mkdtempSync(join(tmpdir(), 'zcprobe-sweep-state-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const r = await sweepHost({ dir: state });
  t.true(existsSync(dir), `kept: ${r.removed.join(', ')}`);
});

test('owner identity: a pid plus its start time; a recycled pid is not the owner', async (t) => {
  const me = selfOwner();
  t.true(isAlive(me));
  t.false(isAlive({ ...me, startTicks: me.startTicks + 1 }), 'same pid, other start time: another process');
  const dead = await deadPid();
  t.is(startTicksOf(dead), null);
  t.false(couldOwn(dead, Date.now()));
  const started = startedAtMs(process.pid)!;
  t.true(Math.abs(started - (Date.now() - process.uptime() * 1000)) < 3000, 'start time from /proc matches process.uptime()');
  t.true(couldOwn(process.pid, Date.now()), 'we could have made something just now');
  t.false(couldOwn(process.pid, started - 60_000), 'not something made a minute before we started');
});

if (why) {
  test(`sweep (skipped: ${why})`, (t) => t.pass());
} else {
  test.serial('a dead owner\'s ledger: namespace, link, mount, loop device, process and work dir are all removed', async (t) => {
    const dir = privateState(t);
    const tag = randomBytes(3).toString('hex');
    const work = mkdtempSync(`/dev/shm/zcprobe-sweeptest-${tag}-`);
    const netns = `zcprobe-sweeptest-${tag}`;
    const link = `zcpt${tag}`;
    const mnt = join(work, 'mnt');
    const img = join(work, 'img');
    t.teardown(() => { // only if the sweep failed
      sh('umount', '-l', mnt);
      const l = loopOf(img);
      if (l) sh('losetup', '-d', l);
      sh('ip', 'link', 'del', link);
      sh('ip', 'netns', 'del', netns);
      rmSync(work, { recursive: true, force: true });
    });
    t.true(sh('ip', 'netns', 'add', netns).ok);
    t.true(sh('ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', `${link}p`).ok, 'a veth pair in the root namespace');
    mkdirSync(mnt);
    t.true(sh('mount', '-t', 'tmpfs', '-o', 'size=1m', 'zcprobe-sweeptest', mnt).ok);
    writeFileSync(img, Buffer.alloc(1 << 20));
    const loop = sh('losetup', '--find', '--show', img).out;
    t.regex(loop, /^\/dev\/loop\d+$/);
    const sleeper = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    sleeper.unref();
    const sleeperTicks = startTicksOf(sleeper.pid!)!;
    const resources: Resource[] = [
      { kind: 'workdir', path: work },
      { kind: 'loop', device: loop, backing: img },
      { kind: 'mount', path: mnt },
      { kind: 'netns', name: netns },
      { kind: 'link', name: link, ifindex: linkIndex(link)! },
      { kind: 'process', pid: sleeper.pid!, startTicks: sleeperTicks },
    ];
    const ledger: LedgerFile = { owner: { pid: await deadPid(), startTicks: 1 }, command: 'test', startedAt: new Date().toISOString(), resources };
    const file = writeLedgerFor(ledger, dir);

    const r = await sweepHost({ dir });
    t.deepEqual(r.errors, []);
    t.is(r.removed.length, resources.length, r.removed.join('\n'));
    t.false(netnsList().includes(netns), 'namespace gone');
    t.is(linkIndex(link), null, 'link gone');
    t.false(mounted(mnt), 'unmounted');
    t.is(loopOf(img), null, 'loop device detached');
    t.false(existsSync(work), 'work dir gone');
    t.is(startTicksOf(sleeper.pid!), null, 'process killed');
    t.false(existsSync(file), 'ledger removed once everything in it is gone');
  });

  test.serial("a live owner's ledger is left alone; a dead one's stale entries are only removed while they are still theirs", async (t) => {
    const dir = privateState(t);
    const tag = randomBytes(3).toString('hex');
    const liveNs = `zcprobe-sweeptest-live-${tag}`;
    const link = `zcpu${tag}`;
    t.teardown(() => { sh('ip', 'netns', 'del', liveNs); sh('ip', 'link', 'del', link); });
    t.true(sh('ip', 'netns', 'add', liveNs).ok);
    t.true(sh('ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', `${link}p`).ok);
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    t.teardown(() => sleeper.kill('SIGKILL'));
    const now = new Date().toISOString();
    writeLedgerFor({ owner: selfOwner(), command: 'test', startedAt: now, resources: [{ kind: 'netns', name: liveNs }] }, dir);
    // A dead run whose link name and process pid were reused since: ifindex and start time differ.
    writeLedgerFor({
      owner: { pid: await deadPid(), startTicks: 1 }, command: 'test', startedAt: now,
      resources: [{ kind: 'link', name: link, ifindex: linkIndex(link)! + 100000 }, { kind: 'process', pid: sleeper.pid!, startTicks: 1 }],
    }, dir);
    const r = await sweepHost({ dir });
    t.deepEqual(r.errors, []);
    t.true(netnsList().includes(liveNs), "the live owner's namespace is kept");
    t.true(r.kept.some((k) => k.includes(liveNs)));
    t.not(linkIndex(link), null, 'a link with the same name but another ifindex is not the dead run\'s');
    t.not(startTicksOf(sleeper.pid!), null, 'a process with the same pid but another start time is not the dead run\'s');
    t.is(readLedgers(dir).length, 1, "only the live owner's ledger remains");
  });

  test.serial('names with an owner pid: removed when that pid is dead, kept while it runs', async (t) => {
    const dir = privateState(t);
    const dead = await deadPid();
    const tag = randomBytes(3).toString('hex');
    const deadNs = `zcprobe-${dead}-${tag}`;
    const liveNs = `zcprobe-${process.pid}-${tag}`;
    const deadDir = `/dev/shm/zcprobe-${dead}-sweeptest-${tag}`;
    const liveDir = `/dev/shm/zcprobe-${process.pid}-sweeptest-${tag}`;
    t.teardown(() => {
      for (const n of [deadNs, liveNs]) sh('ip', 'netns', 'del', n);
      for (const d of [deadDir, liveDir]) rmSync(d, { recursive: true, force: true });
    });
    for (const n of [deadNs, liveNs]) t.true(sh('ip', 'netns', 'add', n).ok);
    for (const d of [deadDir, liveDir]) mkdirSync(d);
    writeFileSync(join(deadDir, 'capture.pcap'), 'x');
    const r = await sweepHost({ dir });
    t.deepEqual(r.errors, []);
    t.false(netnsList().includes(deadNs));
    t.false(existsSync(deadDir));
    t.true(netnsList().includes(liveNs));
    t.true(existsSync(liveDir));
    t.true(r.removed.some((x) => x.includes(deadNs)) && r.removed.some((x) => x.includes(deadDir)));
  });
}
