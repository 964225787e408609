// mmap + write(2) (the Linux Journal article's second path).
// Claim 1: writing into the mapping right after write() returns is safe — write copies the bytes
// into socket buffers before it returns. Expected to hold.
// Claim 2 (the article's hazard): another process truncates the mapped file while the server is
// blocked in write(), and "the server gets SIGBUS". Tested, not assumed: a child process is the
// server (whatever the kernel does cannot take the test down) and what it saw is classified.
// Claim 3 (the fix): with an F_RDLCK lease the truncating process is held back until the server
// releases, and the server learns of the break first. fs.lease-break-time is lowered to 1 s for
// that test (bounding the hold if the server never released) and restored; never 0.
import test, { type Implementation, type TestFn } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { patternA } from '../harness/model/patterns.ts';
import { readOnlyFileSource, releaseSource } from '../harness/case/methods/sources.ts';
import { MutatorProcess } from '../harness/roles/mutator/client.ts';
import { takeLease } from '../harness/case/safeguards/lease.ts';
import { FILE, native } from '../harness/native.ts';
import { readSysctl, setSysctl } from '../harness/host/sysctl.ts';
import { testWithNeeds, type Need } from './helpers/requirements.ts';
import { harnessChildren } from './helpers/t-children.ts';
import { runClaim } from './helpers/t-claims.ts';
import { SIGBUS_IN_WRITE } from '../harness/model/baselines.ts';
import { observe } from './helpers/t-observe.ts';
import { useSession } from './helpers/t-session.ts';
import { CATEGORIES, truncateWhileWriting, type TruncateObservation } from './helpers/t-mmap-truncate.ts';

const BREAK_TIME = 'fs/lease-break-time';
const originalBreakTime = (() => {
  try {
    return readSysctl(BREAK_TIME);
  } catch {
    return null;
  }
})();
const SIZE = 64 << 20;
// Reader starts 400 ms after connecting; the truncation comes 100 ms after the write started.
// 64 MiB cannot fit in loopback socket buffers (a few MiB), so write() is blocked by then.
const TIMING = { size: SIZE, readerDelayMs: 400, truncateAfterMs: 100 };

const session = useSession(test);
let mutator: MutatorProcess | null = null;
let workDir = '';

// Spawned before any experiment buffer exists, like the session's own processes.
test.before(async () => {
  mutator = await MutatorProcess.spawn();
  workDir = mkdtempSync('/dev/shm/zcprobe-mmap-');
});

test.after.always('no child process left, lease-break-time restored', async (t) => {
  await mutator?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  if (originalBreakTime !== null) t.is(readSysctl(BREAK_TIME), originalBreakTime, 'fs.lease-break-time is back to its value before the tests');
  // The session's own after-hook may be closing its receiver and mutator concurrently.
  for (let i = 0; i < 50 && harnessChildren().length; i++) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(harnessChildren(), [], 'no child process left (receiver, mutators, tcpdump, sender)');
});

// Serial: the truncation experiments time a reader on this process's event loop, which a claim
// case's synchronous send running concurrently would stall.
const serial = test.serial as unknown as TestFn;
const serialWithNeeds = (title: string, needs: Need[], impl: Implementation<[]>) => testWithNeeds(serial, title, needs, impl);

await serialWithNeeds('mmap+write: writing into the mapping right after write() returns is safe (holds)', ['root', 'tcpdump'], async (t) => {
  await runClaim(t, session, CLAIMS['mmap-write-reuse']!);
});

function timeline(o: TruncateObservation): string {
  const t0 = o.truncateAskedAt;
  const ms = (x: number) => `${x - t0 >= 0 ? '+' : ''}${(x - t0).toFixed(1)} ms`;
  const steps = o.events.map((e) => {
    if (e.ev === 'write') return `${ms(e.at)} write() ${'errno' in e ? `→ ${e.errno}` : `→ ${e.n} B`}`;
    if ('at' in e) return `${ms(e.at)} ${e.ev}${e.ev === 'released' && e.revokedByKernel ? ' (already revoked by the kernel)' : ''}`;
    return e.ev === 'sigio' ? `SIGIO deliveries seen: ${e.count}` : e.ev === 'done' ? `sent ${e.sent} B` : e.ev;
  });
  const w = o.writer;
  steps.push(`truncater (pid ${w.pid}): open() ${ms(w.openStartedAt)} → ${ms(w.openedAt)} (held ${w.blockedMs.toFixed(1)} ms), ftruncate done ${ms(w.mutatedAt)}`);
  steps.push(`exit: ${o.exit.signal ? `killed by ${o.exit.signal}` : `code ${o.exit.code}`}; receiver got ${o.received.bytes} B, ${o.received.intact ? 'all equal to the original file' : 'NOT the original bytes'}`);
  return steps.map((s) => `    ${s}`).join('\n');
}

/** Bytes write() said it sent (up to the first error). */
const reportedSent = (o: TruncateObservation) => o.events.reduce((n, e) => n + (e.ev === 'write' && 'n' in e ? e.n : 0), 0);

/** Truncation runs per test: the observation is a rate, and 5 all-or-nothing runs are the fewest
 * that can differ from a baseline's at 1 % (Fisher: 2 / C(10, 5) = 0.008). */
const TRUNCATE_RUNS = 5;

await serialWithNeeds('mmap+write: another process truncates the file while write() blocks — record what this kernel does', ['root'], async (t) => {
  const categories = new Map<string, number>();
  let killedInWrite = 0;
  for (let i = 0; i < TRUNCATE_RUNS; i++) {
    const o = await truncateWhileWriting(mutator!, { workDir, lease: false, touch: true, ...TIMING });
    t.true(o.blockedWhenTruncated, 'the truncation came while the server was still inside its first write()');
    t.true((CATEGORIES as readonly string[]).includes(o.category), `classified: ${o.description}`);
    // write() copies, so what it reports as sent is what arrives, whatever happened to the file.
    t.is(o.received.bytes, reportedSent(o), 'the receiver got exactly the bytes write() reported');
    const touched = o.events.some((e) => e.ev === 'touching');
    const sigbus =
      o.exit.signal !== 'SIGBUS' ? 'no SIGBUS at all'
      : o.category === 'killed inside write()' ? 'yes, inside write()'
      : touched ? 'not from write() itself; SIGBUS only when the server read the truncated mapping afterwards'
      : 'SIGBUS after write() returned';
    const key = `${o.category}; SIGBUS: ${sigbus}`;
    categories.set(key, (categories.get(key) ?? 0) + 1);
    if (o.category === 'killed inside write()') killedInWrite++;
    if (i > 0) continue;
    t.log(`observed on ${release()}: ${o.category} — ${o.description}`);
    t.log(`  the article's "the server gets SIGBUS": ${sigbus}`);
    t.log(`  timeline of the first run (from the truncation request):\n${timeline(o)}`);
  }
  const detail = [...categories].map(([k, n]) => `${n}× ${k}`).join('; ');
  const statement = 'what the server sees when another process truncates its mapped file while write() blocks';
  const id = 'mmap-write-truncate-while-blocked';
  observe(t, { id, statement, event: SIGBUS_IN_WRITE, seen: killedInWrite, runs: TRUNCATE_RUNS, transport: 'loopback', detail });
});

await serialWithNeeds('mmap+write with an F_RDLCK lease: the truncater is held until the server releases, and the server sees the break first', ['root', 'leases', 'leaseBreakTime'], async (t) => {
  const breakTime = setSysctl(BREAK_TIME, 1);
  let o: TruncateObservation;
  try {
    o = await truncateWhileWriting(mutator!, { workDir, lease: true, touch: false, ...TIMING });
  } finally {
    breakTime.restore();
  }
  const find = <E extends TruncateObservation['events'][number]['ev']>(ev: E) => o.events.find((e) => e.ev === ev) as Extract<TruncateObservation['events'][number], { ev: E }> | undefined;
  const lease = find('lease');
  t.truthy(lease && !lease.refused, `the lease was taken (${lease?.refused ?? 'no lease event'})`);
  t.true(o.blockedWhenTruncated, 'the truncation came while the server was still inside its first write()');
  const seen = find('break-seen');
  const released = find('released');
  t.truthy(seen, 'the server saw the lease break (F_GETLEASE) before it finished sending');
  t.truthy(released);
  if (!seen || !released) return;
  t.true(seen.at <= o.writer.openedAt, 'the server saw the break before the truncater got its file open');
  if (released.revokedByKernel) {
    t.true(o.writer.blockedMs >= 900, `revoked by the kernel: the truncater was held about fs.lease-break-time (${o.writer.blockedMs.toFixed(1)} ms)`);
  } else {
    // Timestamps come from two processes (performance.timeOrigin + now): allow 1 ms of skew;
    // the truncater is held hundreds of ms, so this cannot hide an unblocked open.
    t.true(o.writer.openedAt >= released.at - 1, `the truncater got the file open only after the release (${(o.writer.openedAt - released.at).toFixed(2)} ms)`);
    t.is(o.received.bytes, SIZE, 'the whole file arrived');
    t.true(o.received.intact, 'and it is the original file');
  }
  t.log(`truncater held ${o.writer.blockedMs.toFixed(1)} ms; server ${o.description}`);
  t.log(`  timeline (from the truncation request):\n${timeline(o)}`);
});

await serialWithNeeds('mmap+write: a read lease is refused (EAGAIN, reported as the reason) while the file is mapped shared-writable', ['leases'], (t) => {
  const intended = patternA(65536);
  // A shared writable mapping alone, its O_RDWR fd already closed: the mapping keeps the file
  // open for writing (i_writecount), which is what the kernel checks.
  const path = join(workDir, 'mapped-writable.bin');
  writeFileSync(path, intended);
  const rw = native.open(path, FILE.O_RDWR);
  const mapping = native.mapFile(rw, intended.length, true);
  native.close(rw);
  const ro = native.open(path, FILE.O_RDONLY);
  const readOnly = readOnlyFileSource(intended, workDir, true);
  try {
    const refused = takeLease(ro);
    t.regex(refused.refused ?? '', /EAGAIN/, 'refused, with EAGAIN as the reason (not an exception)');
    const held = takeLease(readOnly.kind === 'file' ? readOnly.fd : -1);
    t.is(held.refused, null, 'the lease cases\' source (read-only fd, read-only shared mapping): granted');
    if (readOnly.kind === 'file') native.fcntlInt(readOnly.fd, FILE.F_SETLEASE, FILE.F_UNLCK);
    t.log(`shared writable mapping: ${refused.refused}; read-only fd and mapping: lease taken (${mapping.byteLength} B mapped)`);
  } finally {
    native.close(ro);
    releaseSource(readOnly);
    rmSync(path, { force: true });
  }
});
