// Leases and the mmap truncation story on ext4, XFS and btrfs (tmpfs: lease.test.ts and
// mmap-write.test.ts). Per filesystem:
// - the lease safeguard with every file mutation, done by another process right after the send:
//   held until the receiver's ack it must protect every case (the safeguard's claim, asserted);
//   without a lease and released early, what arrives is observed and printed;
// - the Linux Journal experiment: another process truncates the mapped file while the server is
//   blocked in write(); without a lease what the server sees is recorded; with one, the
//   truncater must be held until the release (asserted) and the whole file must arrive.
// fs.lease-break-time is lowered (3 s, 1 s for the mmap lease run) and restored; never 0.
import test, { type TestFn } from 'ava';
import { release } from 'node:os';
import type { CaseReport } from '../harness/verdict/case-report.ts';
import { makeExperiment, type Method, type Safeguard } from '../harness/model/experiment.ts';
import { openFilesystem } from '../harness/world/fs/index.ts';
import { fsLeftovers } from '../harness/world/fs/leftovers.ts';
import { LOOP_FILESYSTEMS, type LoopFs } from '../harness/model/fs-spec.ts';
import { MutatorProcess } from '../harness/roles/mutator/client.ts';
import { CaseUnsupported } from '../harness/session/run-case.ts';
import { Session } from '../harness/session/session.ts';
import { readSysctl, setSysctl } from '../harness/host/sysctl.ts';
import { isCorrupted } from '../harness/verdict/verdict.ts';
import { testWithNeeds, type Need } from './helpers/requirements.ts';
import { harnessChildren } from './helpers/t-children.ts';
import { truncateWhileWriting } from './helpers/t-mmap-truncate.ts';
import { judgeCase } from '../harness/evidence/judge.ts';

const BREAK_TIME = 'fs/lease-break-time';
const NEED: Record<LoopFs, Need> = { ext4: 'fsExt4', xfs: 'fsXfs', btrfs: 'fsBtrfs' };
const KiB = 1024;
const MiB = 1024 * KiB;
const METHODS: Method[] = ['sendfile', 'splice', 'mmap-write'];
const SIZES = [64 * KiB, 1 * MiB];
const MUTATIONS = (size: number) => ['pwrite', `truncate:${size >> 1}`, `punch-hole:${size >> 2}:${size >> 1}`, 'odirect-write', 'rename-replace', 'reflink-then-write'];
const SAFEGUARDS: Safeguard[] = ['none', 'lease-early', 'lease'];
const serial = test.serial as unknown as TestFn;

const originalBreakTime = (() => {
  try {
    return readSysctl(BREAK_TIME);
  } catch {
    return null;
  }
})();

test.after.always('fs.lease-break-time restored; no child, mount or image left', (t) => {
  if (originalBreakTime !== null) t.is(readSysctl(BREAK_TIME), originalBreakTime);
  t.deepEqual(harnessChildren(), []);
  t.deepEqual(fsLeftovers([process.pid]), { mounts: [], loopDevices: [], dirs: [] });
});

const short = (c: CaseReport) => `${c.verdict}${c.received.mismatchedBytes ? ` (${c.received.classes.ranges.filter((r) => r.class !== 'old').map((r) => `${r.class}[${r.start},${r.end})`).join(' ')})` : ''}`;

for (const fs of LOOP_FILESYSTEMS) {
  await testWithNeeds(serial, `${fs}: another process changes the file after sendfile/splice/mmap-write — the lease held until the ack protects every mutation`, ['root', 'tcpdump', 'leases', 'leaseBreakTime', NEED[fs]], async (t) => {
    const breakTime = setSysctl(BREAK_TIME, 3);
    const session = await Session.open({ transport: 'loopback', family: 4, fs });
    const rows = new Map<string, string[]>();
    const skipped = new Set<string>();
    try {
      for (const method of METHODS)
        for (const size of SIZES)
          for (const mutation of MUTATIONS(size))
            for (const safeguard of SAFEGUARDS) {
              const exp = makeExperiment({ method, size, fs, safeguard, mutatedBy: 'other-process', mutation: mutation as never, receiverDelayMs: 50 });
              let r: CaseReport;
              try {
                r = await judgeCase(session, exp);
              } catch (e) {
                if (!(e instanceof CaseUnsupported)) throw e;
                skipped.add(`${mutation.split(':')[0]}: ${e.reason}`);
                continue;
              }
              const key = `${method} ${mutation.split(':')[0]}`;
              rows.set(key, [...(rows.get(key) ?? []), `${safeguard}: ${short(r)}`]);
              t.truthy(r.safeguardResult.writer, `${r.id}: the other process did the mutation`);
              if (safeguard === 'lease') t.is(r.verdict, 'clean', `${fs} ${method} ${size} B ${mutation} under a lease held until the ack: ${r.verdict} ${r.reasons.join('; ')}`);
              else if (!isCorrupted(r.verdict) && r.verdict !== 'clean') t.log(`inconclusive ${r.id}: ${r.reasons.join('; ')}`);
            }
    } finally {
      await session.close();
      breakTime.restore();
    }
    t.log(`${fs} (${release()}), receiver 50 ms late, 64 KiB and 1 MiB, change by another process:`);
    for (const [key, outcomes] of rows) t.log(`  ${key.padEnd(30)} ${[...new Set(outcomes)].join(' | ')}`);
    for (const s of skipped) t.log(`  not on ${fs}: ${s}`);
  });

  await testWithNeeds(serial, `${fs}: another process truncates the mapped file while write() blocks — recorded, and held back by a lease`, ['root', 'leases', 'leaseBreakTime', NEED[fs]], async (t) => {
    const filesystem = await openFilesystem(fs);
    const mutator = await MutatorProcess.spawn();
    const timing = { size: 64 * MiB, readerDelayMs: 400, truncateAfterMs: 100 };
    try {
      const plain = await truncateWhileWriting(mutator, { workDir: filesystem.workDir, lease: false, touch: true, ...timing });
      t.true(plain.blockedWhenTruncated, 'the truncation came while the server was inside its first write()');
      t.log(`${fs} without a lease: ${plain.category} — ${plain.description}`);
      const breakTime = setSysctl(BREAK_TIME, 1);
      let leased;
      try {
        leased = await truncateWhileWriting(mutator, { workDir: filesystem.workDir, lease: true, touch: false, ...timing });
      } finally {
        breakTime.restore();
      }
      const released = leased.events.find((e) => e.ev === 'released') as { at: number; revokedByKernel: boolean } | undefined;
      t.truthy(released, 'the server released its lease');
      if (released && !released.revokedByKernel) {
        t.true(leased.writer.openedAt >= released.at - 1, `the truncater got the file open only after the release (${(leased.writer.openedAt - released.at).toFixed(2)} ms)`);
        t.is(leased.received.bytes, timing.size, 'the whole file arrived');
        t.true(leased.received.intact, 'and it is the original file');
      }
      t.log(`${fs} with a lease: truncater held ${leased.writer.blockedMs.toFixed(1)} ms; server ${leased.description}`);
    } finally {
      await mutator.close();
      await filesystem.close();
    }
  });
}
