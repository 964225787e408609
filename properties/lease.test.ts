// Safeguard 'lease': the sender holds an F_RDLCK lease on its source file while sending, and the
// file is changed by ANOTHER process (harness/mutator) that opens it for writing right after the
// send returns — an open the kernel holds back while the lease stands. Three claims, loopback,
// three-way verdicts, receiver reading 50 ms late so an unprotected change shows deterministically:
// (a) no lease: a pwrite by the other process right after sendfile/splice returns changes what
//     arrives (corrupted in every case);
// (b) lease released right after the send returns ('lease-early'): still corrupted, and the
//     writer is barely held back — a lease protects only while it is held;
// (c) lease held until the receiving application's ack ('lease'): clean in every case, and the
//     writer is held until the release (its blocked time is recorded).
// mmap-write is covered too: write(2) copies, so it is clean with or without the lease, and its
// lease cases use a read-only mapping (a shared writable one makes the lease fail with EAGAIN).
// fs.lease-break-time is set to 3 s for the file (bounding a wedged writer) and restored; never 0.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { CaseReport } from '../harness/verdict/case-report.ts';
import { CORRUPTED } from '../harness/model/baselines.ts';
import type { Claim } from '../harness/model/claims/index.ts';
import { ExperimentError, makeExperiment, type Method, type Safeguard } from '../harness/model/experiment.ts';
import { readSysctl, setSysctl, type SysctlOverride } from '../harness/host/sysctl.ts';
import { isCorrupted } from '../harness/verdict/verdict.ts';
import { missingNeeds, testWithNeeds, type Need } from './helpers/requirements.ts';
import { harnessChildren } from './helpers/t-children.ts';
import { runClaim } from './helpers/t-claims.ts';
import { observe } from './helpers/t-observe.ts';
import { coverage, useSession } from './helpers/t-session.ts';

const BREAK_TIME = 'fs/lease-break-time';
const NEEDS: Need[] = ['root', 'tcpdump', 'leases', 'leaseBreakTime'];
const KiB = 1024;
const MiB = 1024 * KiB;
// Sizes the socket buffers hold whole (4 MiB with a forced 16 MiB receive buffer), so the send
// returns before the receiver's first read and an unprotected change shows in every case.
const GRID: { size: number; rcvbuf?: number }[] = [{ size: 64 * KiB }, { size: 1 * MiB }, { size: 4 * MiB, rcvbuf: 16 * MiB }];
const REPEATS = 2;
const DELAY_MS = 50;
const BY_REFERENCE: Method[] = ['sendfile', 'splice'];
const METHODS: Method[] = [...BY_REFERENCE, 'mmap-write'];

const originalBreakTime = (() => {
  try {
    return readSysctl(BREAK_TIME);
  } catch {
    return null;
  }
})();

let breakTime: SysctlOverride | null = null;
const session = useSession(test, { transport: 'loopback', family: 4 }, (t) => {
  // Runs after the session (receiver, mutator, tcpdump) is closed.
  breakTime?.restore();
  if (originalBreakTime !== null) t.is(readSysctl(BREAK_TIME), originalBreakTime, 'fs.lease-break-time restored');
  t.deepEqual(harnessChildren(), [], 'no child process left (receiver, mutator, tcpdump)');
});

test.before(async () => {
  // Only where the tests run at all (skipped ones must not touch the host).
  if ((await missingNeeds(NEEDS)) === null) breakTime = setSysctl(BREAK_TIME, 3);
});

test('lease experiments: another process mutates, by pwrite or truncation, and only file methods apply', (t) => {
  const e = makeExperiment({ method: 'mmap-write', size: 1, safeguard: 'lease' });
  t.is(e.mutatedBy, 'other-process');
  t.is(e.mutation, 'pwrite', 'mmap-write under a lease: the other process pwrites (it cannot store into our mapping)');
  const bad: [Parameters<typeof makeExperiment>[0], string][] = [
    [{ method: 'vmsplice', size: 1, safeguard: 'lease' }, 'safeguard'],
    [{ method: 'sendfile', size: 1, safeguard: 'lease-early', mutatedBy: 'sender' }, 'mutatedBy'],
    [{ method: 'mmap-write', size: 1, mutatedBy: 'other-process', mutation: 'overwrite' }, 'mutation'],
  ];
  for (const [partial, field] of bad) t.is(t.throws(() => makeExperiment(partial), { instanceOf: ExperimentError })?.field, field);
});

test('sysctl: fs.lease-break-time is never set to 0 (a writer would wait forever) nor to a non-integer', (t) => {
  const before = originalBreakTime === null ? null : readSysctl(BREAK_TIME);
  for (const v of [0, '0', -1, 1.5, 'soon']) t.throws(() => setSysctl(BREAK_TIME, v), { message: /refusing fs.lease-break-time/ });
  if (before !== null) t.is(readSysctl(BREAK_TIME), before, 'refused before anything was written');
});

const ms = (x: number) => `${x.toFixed(1)} ms`;

function tally(cases: CaseReport[]): string {
  const byMethod = new Map<string, Map<string, number>>();
  for (const c of cases) {
    const m = byMethod.get(c.method) ?? new Map<string, number>();
    m.set(c.verdict, (m.get(c.verdict) ?? 0) + 1);
    byMethod.set(c.method, m);
  }
  const bytes = cases.reduce((n, c) => n + c.size, 0);
  const rows = [...byMethod].map(([method, v]) => `${method}: ${[...v].map(([k, n]) => `${n} ${k}`).join(', ')}`);
  return `${cases.length} cases, ${(bytes / MiB).toFixed(1)} MiB — ${rows.join('; ')}`;
}

function blocked(cases: CaseReport[]): { max: number; median: number } {
  const b = cases.map((c) => c.safeguardResult.writer?.blockedMs ?? NaN).sort((x, y) => x - y);
  return { max: b[b.length - 1] ?? NaN, median: b[Math.floor(b.length / 2)] ?? NaN };
}

/** A fixed grid: every method × size, REPEATS times, pwrite by the other process. */
async function grid(safeguard: Safeguard): Promise<CaseReport[]> {
  const out: CaseReport[] = [];
  for (let rep = 0; rep < REPEATS; rep++)
    for (const method of METHODS)
      for (const g of GRID)
        out.push(await session.run({ method, ...g, receiverDelayMs: DELAY_MS, safeguard, mutatedBy: 'other-process', mutation: 'pwrite' }));
  return out;
}

/** Universal: a by-reference send is unsafe (some case corrupted), a copying send is clean in
 * every case. How many by-reference cases corrupt is this kernel's: an observation. */
function checkUnprotected(t: ExecutionContext, cases: CaseReport[], id: string): void {
  for (const c of cases) {
    t.truthy(c.safeguardResult.writer, `${c.id}: the other process did the mutation`);
    // write(2) copied the bytes before returning: nothing the file does later can reach them.
    if (!BY_REFERENCE.includes(c.method as Method)) t.is(c.verdict, 'clean', `${c.method} ${c.size} B copies at write(): expected clean`);
  }
  for (const method of BY_REFERENCE) {
    const mine = cases.filter((c) => c.method === method);
    const corrupted = mine.filter((c) => isCorrupted(c.verdict)).length;
    t.true(corrupted > 0, `${method}: no case was corrupted (${mine.map((c) => `${c.verdict}${c.reasons.length ? ` (${c.reasons.join('; ')})` : ''}`).join(', ')})`);
    const statement = `${method} cases corrupted when another process pwrites right after the send returns (${id})`;
    const runs = mine.filter((c) => c.verdict !== 'inconclusive').length;
    observe(t, { id: `${id}-${method}`, statement, event: CORRUPTED, seen: corrupted, runs, transport: 'loopback' });
  }
}

await testWithNeeds(test, 'lease (a): no lease — another process pwrites the file right after sendfile/splice returns → corrupted', NEEDS, async (t) => {
  const cases = await grid('none');
  checkUnprotected(t, cases, 'lease-none');
  t.log(`(a) no lease: ${tally(cases)}; writer blocked median ${ms(blocked(cases).median)}`);
  const ex = cases.find((c) => c.evidence);
  if (ex) t.log(`  counterexample: ${ex.method} ${ex.size} B → ${ex.verdict}, ${ex.received.mismatchedBytes} bytes differ; evidence ${ex.evidence!.dir}`);
});

await testWithNeeds(test, 'lease (b): lease released right after the send returns → still corrupted, writer barely held', NEEDS, async (t) => {
  const cases = await grid('lease-early');
  checkUnprotected(t, cases, 'lease-early');
  for (const c of cases) {
    const { lease, writer } = c.safeguardResult;
    t.truthy(lease?.takenAt, `${c.id}: the lease was taken (${lease?.refused ?? ''})`);
    // Held at most until the early release, never until the receiver read (DELAY_MS later).
    t.true((writer?.blockedMs ?? Infinity) < DELAY_MS, `${c.id}: writer held ${writer?.blockedMs} ms`);
  }
  const b = blocked(cases);
  t.log(`(b) lease-early: ${tally(cases)}; writer blocked median ${ms(b.median)}, max ${ms(b.max)}`);
});

/** (c) as a fast-check property: methods, sizes, delays, buffers and both file mutations. */
const leaseHeld: Claim = {
  id: 'lease-until-ack',
  statement: "with an F_RDLCK lease held until the receiving application's ack, another process changing the file never changes what arrives",
  kind: 'universal',
  expect: 'holds',
  numRuns: 40,
  experiments: fc.record({
    method: fc.constantFrom(...METHODS),
    size: fc.oneof(fc.integer({ min: 1, max: 64 * KiB }), fc.integer({ min: 1, max: 8 * MiB })),
    receiverDelayMs: fc.constantFrom(0, 10, DELAY_MS, 100),
    mutation: fc.constantFrom('pwrite' as const, 'ftruncate' as const),
    rcvbuf: fc.option(fc.constantFrom(64 * KiB, 1 * MiB), { nil: undefined }),
  }).map((r) => ({ ...r, safeguard: 'lease' as const })),
};

await testWithNeeds(test, 'lease (c): lease held until the receiver acks → clean in every case, writer held until the release', NEEDS, async (t) => {
  // The fixed grid first (same conditions as (a)/(b)), then the generated cases.
  const gridCases = await grid('lease');
  for (const c of gridCases) t.is(c.verdict, 'clean', `${c.method} ${c.size} B under lease: ${c.verdict} ${c.reasons.join('; ')}`);
  const out = await runClaim(t, session, leaseHeld);
  const cases = [...gridCases, ...out.cases];
  let raced = 0;
  for (const c of cases) {
    const { lease, writer } = c.safeguardResult;
    t.truthy(lease?.takenAt && writer, `${c.id}: lease taken and the other process wrote`);
    if (!lease?.releaseCalledAt || !writer) continue;
    t.false(lease.revokedByKernel, `${c.id}: released by the sender, not revoked by the kernel`);
    // The writer's open returned only once the release was under way (0.5 ms slack: two
    // processes' clocks, both performance.timeOrigin + now).
    if (writer.openStartedAt < lease.releaseCalledAt)
      t.true(writer.openedAt >= lease.releaseCalledAt - 0.5, `${c.id}: writer got in ${ms(lease.releaseCalledAt - writer.openedAt)} before the release`);
    else raced++; // the ack came before the other process even tried: nothing to hold back
  }
  const held = cases.filter((c) => c.safeguardResult.lease?.breakSeenAt);
  const b = blocked(held);
  const seenAfter = held.map((c) => c.safeguardResult.lease!.breakSeenAt! - c.timings.sendReturnedAt).sort((x, y) => x - y);
  t.log(`(c) lease until ack: ${tally(cases)}`);
  t.log(`  break seen in ${held.length} cases (median ${ms(seenAfter[Math.floor(seenAfter.length / 2)] ?? NaN)} after the send returned); writer held median ${ms(b.median)}, max ${ms(b.max)}; ${raced} cases acked before the writer tried`);
  t.log(`  session so far: ${coverage(session.stats)}`);
});
