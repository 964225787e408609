// A session leaves nothing behind: no child process, no open fd, no file in its work directory,
// after running one case of every method (and after a case that fails). A run killed by SIGKILL
// leaves things behind that scripts/cleanup.sh removes, and two runs at once (with the cleanup
// sweep running meanwhile) do not disturb each other.
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureUnavailableReason } from '../../harness/capture/tcpdump.ts';
import type { CaseReport } from '../../harness/verdict/case-report.ts';
import { METHODS, makeExperiment } from '../../harness/model/experiment.ts';
import { drive } from '../../test-support/fixtures/child.ts';
import { startTicksOf } from '../../harness/host/owner.ts';
import { stateDir } from '../../harness/host/state-dir.ts';
import { Session } from '../../harness/session/session.ts';
import { listNetns } from '../../harness/world/transport/netns.ts';
import { testWithNeeds } from '../../properties/helpers/requirements.ts';
import { vethUnavailableReason } from '../../harness/world/transport/veth.ts';
import { isCorrupted } from '../../harness/verdict/verdict.ts';
import { judgeCase } from '../../harness/evidence/judge.ts';
import { caseFds } from '../../test-support/proc-fds.ts';

// Decided before any test is declared (ava wants all declarations in one synchronous go).
const rootWhy = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/dev/loop-control') ? 'no loop devices' : (await vethUnavailableReason()) ?? captureUnavailableReason(true);

// This process splices, so its pipes count; the runtime's eventfds and tsx's cache files do not.
const openFds = (): string[] => caseFds('self', { pipes: true });

function childPids(): string[] {
  const out: string[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    const f = `/proc/self/task/${task}/children`;
    if (existsSync(f)) out.push(...readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean));
  }
  return out;
}

test.serial('a session run of every method (with capture) leaves no process, fd or file behind', async (t) => {
  const fdsBefore = openFds();
  const childrenBefore = childPids();
  const session = await Session.open({ transport: 'loopback', family: 4, runDir: mkdtempSync(join(tmpdir(), 'zcprobe-leftovers-')) });
  t.teardown(() => rmSync(session.runDir, { recursive: true, force: true }));
  const workDir = session.workDir;
  t.true(childPids().length > childrenBefore.length, 'the receiver runs as a child process');
  for (const method of METHODS) {
    await judgeCase(session, makeExperiment({ method, size: 200_000, receiverDelayMs: 5 }));
  }
  // A case that fails after connecting and sending (the mutation step throws: an experiment that
  // bypassed validation) must still release its socket, source and receiver case.
  await t.throwsAsync(judgeCase(session, { ...makeExperiment({ method: 'write', size: 1000 }), mutation: 'pwrite' }), {
    message: /needs a file source/,
  });
  await judgeCase(session, makeExperiment({ method: 'write', size: 1000 })); // the receiver is still in step
  // Only the session's own capture file may remain until close.
  t.deepEqual(readdirSync(workDir).filter((f) => f !== 'capture.pcap'), [], 'no source or received file remains in the work directory');
  await session.close();
  t.false(existsSync(workDir), 'work directory removed');
  t.deepEqual(childPids(), childrenBefore, 'no child process (receiver, tcpdump) remains');
  t.deepEqual(openFds(), fdsBefore, 'no fd remains open');
});

// ---- crashes and concurrent runs (root: namespaces, loop devices, mounts, sysctls) ----

const CRASH_CHILD = fileURLToPath(new URL('../../test-support/fixtures/crash-child.ts', import.meta.url));
const CLEANUP = fileURLToPath(new URL('../../scripts/cleanup.sh', import.meta.url));
const ZCPROBE = fileURLToPath(new URL('../../bin/zcprobe.js', import.meta.url));
const out = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';

/** What a run can leave on the host, as sorted lists (and one sysctl value). */
type HostSnapshot = Record<'netns' | 'links' | 'loops' | 'mounts' | 'shm' | 'leaseBreakTime' | 'ledgers' | 'fsDir', string[]>;

/** A user's directory for --fs dir:PATH, outside every zcprobe work dir: only the ledger can lead the sweep there. */
const FS_PARENT = mkdtempSync(join(tmpdir(), 'fs-dir-parent-'));
test.after.always(() => rmSync(FS_PARENT, { recursive: true, force: true }));

function hostSnapshot(): HostSnapshot {
  const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  return {
    netns: lines(out('ip', 'netns', 'list')).map((l) => l.split(' ')[0]!),
    links: (JSON.parse(out('ip', '-j', 'link', 'show') || '[]') as { ifname: string }[]).map((l) => l.ifname).sort(),
    loops: lines(out('losetup', '--list', '--noheadings', '--raw', '-O', 'NAME,BACK-FILE')),
    mounts: lines(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').join('\n')),
    shm: readdirSync('/dev/shm').filter((n) => n.startsWith('zcprobe-')).sort(),
    leaseBreakTime: [readFileSync('/proc/sys/fs/lease-break-time', 'utf8').trim()],
    ledgers: existsSync(join(stateDir(), 'runs')) ? readdirSync(join(stateDir(), 'runs')).sort() : [],
    fsDir: readdirSync(FS_PARENT).sort(),
  };
}


if (rootWhy) {
  test.skip(`crash and concurrency checks [skipped: ${rootWhy}]`, (t) => t.fail());
} else {
  const crashTitle = 'SIGKILL mid-run, then scripts/cleanup.sh: namespaces, links, loop devices, mounts, /dev/shm, --fs dir:PATH, ' +
    'sysctls as before';
  test.serial(crashTitle, async (t) => {
    const before = hostSnapshot();
    const lowered = before.leaseBreakTime[0] === '3' ? '4' : '3';
    const c = drive(CRASH_CHILD, [lowered, FS_PARENT]);
    t.teardown(() => c.child.kill('SIGKILL'));
    const ready = await c.ask('', 60_000);
    t.true(ready.ready === true, JSON.stringify(ready));
    for (let i = 0; i < 3; i++) t.like(await c.ask('', 30_000), { verdict: 'clean' });
    const during = hostSnapshot();
    c.child.kill('SIGKILL');
    t.is(await c.exited, 'SIGKILL');
    const left = hostSnapshot();
    // Everything the run held is still there: nothing could clean up after SIGKILL.
    t.true(left.netns.includes(String(ready.netns)), 'namespace left behind');
    t.true(left.links.includes(String(ready.link)), 'link left behind');
    t.true(left.loops.some((l) => l.startsWith(`${String(ready.loop)} `)), 'loop device left behind');
    t.true(left.mounts.includes(String(ready.mnt)), 'mount left behind');
    t.true(left.shm.length > before.shm.length, 'work dir left behind');
    t.true(String(ready.fsDir).startsWith(`${FS_PARENT}/`) && left.fsDir.length === 1,
      `the --fs dir:PATH source directory left behind: ${left.fsDir.join(', ')}`);
    t.deepEqual(left.leaseBreakTime, [lowered], 'lowered sysctl left behind');
    t.notDeepEqual(during, before);

    const r = spawnSync('bash', [CLEANUP], { encoding: 'utf8', timeout: 60_000 });
    t.is(r.status, 0, r.stderr);
    t.log(r.stdout.trim());
    // The receiver left in the namespace may take a moment to see its parent gone.
    const deadline = Date.now() + 5000;
    let after = hostSnapshot();
    while (JSON.stringify(after) !== JSON.stringify(before) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      after = hostSnapshot();
    }
    t.deepEqual(after, before, 'the host is as it was before the run');
    t.is(startTicksOf(Number(ready.helper)), null, 'the helper process was killed (gone or a zombie waiting for init)');
  });

  test.serial('two runs at once (veth and loopback) while the cleanup sweep runs over and over: both finish with correct verdicts', async (t) => {
    const before = hostSnapshot();
    const zc = (args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [ZCPROBE, 'run', ...args, '--json'], { timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    const runs = Promise.all([
      // The whole message fits the receive buffer and is read 300 ms late: every case is corrupted
      // whatever the scheduling (with a small buffer a busy CPU can let the reader win the race).
      zc(['--transport', 'veth', '--method', 'vmsplice', '--size', '1MiB', '--rcvbuf', '32MiB', '--receiver-delay-ms', '300', '--repeat', '12']),
      zc(['--transport', 'loopback', '--method', 'write', '--size', '1MiB', '--receiver-delay-ms', '20', '--repeat', '12']),
    ]);
    let finished = false;
    void runs.then(() => { finished = true; });
    const sweeps: string[] = [];
    while (!finished) {
      const r = spawnSync('bash', [CLEANUP], { encoding: 'utf8', timeout: 30_000 });
      t.is(r.status, 0, r.stderr);
      sweeps.push(r.stdout);
      await new Promise((res) => setTimeout(res, 100));
    }
    const [veth, lo] = await runs;
    t.is(veth.code, 0, veth.stderr);
    t.is(lo.code, 0, lo.stderr);
    const cases = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as CaseReport);
    // Evidence of the corrupted cases went to captures/<run-id>/: this test's, removed with it.
    for (const c of [...cases(veth.stdout), ...cases(lo.stdout)]) {
      if (c.evidence) rmSync(dirname(c.evidence.dir), { recursive: true, force: true });
    }
    const verdicts = (s: string) => cases(s).map((c) => c.verdict);
    t.deepEqual(verdicts(lo.stdout), Array(12).fill('clean'), 'write() is clean');
    const v = verdicts(veth.stdout);
    t.is(v.length, 12);
    t.true(v.every(isCorrupted), `vmsplice + overwrite, read 300 ms late, is corrupted in every case: ${v.join(', ')}`);
    t.true(sweeps.length >= 3, `${sweeps.length} sweeps ran during the runs`);
    t.deepEqual(sweeps.filter(Boolean), [], 'the sweeps removed nothing (both runs were alive)');
    t.deepEqual(hostSnapshot(), before, 'both runs removed what they made');
  });
}

// Declared after the serial test above: ava runs it once that one has finished.
await testWithNeeds(test, 'a tun session (two namespaces, two captures, the relay) leaves no process, fd, namespace or file behind', ['root', 'tcpdump', 'tun'], async (t) => {
  const fdsBefore = openFds();
  const childrenBefore = childPids();
  const nsBefore = (await listNetns()).sort();
  const session = await Session.open({ transport: 'tun', family: 4, runDir: mkdtempSync(join(tmpdir(), 'zcprobe-leftovers-')) });
  t.teardown(() => rmSync(session.runDir, { recursive: true, force: true }));
  t.is(session.captures.length, 2, 'one capture on each side of the link');
  t.is((await listNetns()).length, nsBefore.length + 2, 'a sender and a receiver namespace');
  for (const method of ['write', 'vmsplice', 'sendfile'] as const) {
    await judgeCase(session, makeExperiment({ method, size: 200_000, receiverDelayMs: 5, transport: 'tun', link: { loss: '#2' } }));
  }
  await session.close();
  t.deepEqual((await listNetns()).sort(), nsBefore, 'both namespaces removed');
  t.deepEqual(childPids(), childrenBefore, 'no child process (receiver, tcpdumps, relay) remains');
  t.deepEqual(openFds(), fdsBefore, 'no fd remains open (incl. the sentinel socket in the sender namespace)');
});
