// Claim: on live captures, zcprobe's evidence says what Wireshark says. For cases of every send
// method, over loopback and veth, IPv4 and IPv6, with and without a retransmission whose bytes
// differ, tshark decodes the case's capture into the same frames (number, time, addresses, ports,
// raw sequence number, flags, length, payload) as harness/capture/pcap.ts; the first-transmission
// stream and the list of retransmissions rebuilt from tshark's frames, and Wireshark's own Follow
// TCP Stream, equal the stream the verdict was decided on. Every non-clean case's bundle holds a
// case.pcapng whose comments tshark prints (section: case, kernel, method, safeguard, verdict;
// frames: the ones that prove the verdict) and whose display filter selects exactly those frames.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCaseLine, type CaseReport } from '../../harness/verdict/case-report.ts';
import type { WireObservation } from '../../harness/capture/wire.ts';
import { captureFileComments, tsharkFrameComments, tsharkFrames, tsharkSelect, tsharkUnavailableReason, tsharkVersion } from '../../test-support/tshark.ts';
import { crossCheckWithTshark } from '../../test-support/tshark-oracle.ts';
import { makeExperiment, type Experiment } from '../../harness/model/experiment.ts';
import { Session } from '../../harness/session/session.ts';
import { testWithNeeds, type Need } from '../../properties/helpers/requirements.ts';
import { judgeCaseObserved } from '../../harness/evidence/judge.ts';

type Case = Partial<Experiment> & Pick<Experiment, 'method' | 'size'>;
interface Plan {
  transport: Experiment['transport'];
  family: 4 | 6;
  needs: Need[];
  cases: Case[];
  /** try the first case up to this many times until a retransmission with differing bytes shows */
  wantConflict?: number;
}

const MiB = 1 << 20;
const late = { receiverDelayMs: 50 };
// vmsplice 1 MiB with the reader 50 ms late retransmits one segment with the new bytes on
// loopback on 6.18 (the first transmission still carried the old ones): the "differing" case;
// write 8 MiB read 50 ms late usually retransmits identical bytes.
const PLANS: Plan[] = [
  { transport: 'loopback', family: 4, needs: ['root', 'tcpdump'], wantConflict: 5,
    cases: [{ method: 'vmsplice', size: MiB, ...late }, { method: 'write', size: 8 * MiB, ...late }, { method: 'sendfile', size: 64 << 10, ...late }, { method: 'splice', size: 256 << 10 }] },
  { transport: 'loopback', family: 6, needs: ['root', 'tcpdump'],
    cases: [{ method: 'vmsplice', size: MiB, ...late }, { method: 'tee', size: 256 << 10, ...late }, { method: 'mmap-write', size: 256 << 10 }, { method: 'vmsplice-gift', size: 256 << 10 }] },
  { transport: 'loopback', family: 4, needs: ['root', 'tcpdump', 'soZerocopy'], cases: [{ method: 'msg-zerocopy', size: MiB, ...late }] },
  { transport: 'loopback', family: 6, needs: ['root', 'tcpdump', 'ioUringSendZc'], cases: [{ method: 'io-uring-zc', size: MiB, ...late }] },
  { transport: 'veth', family: 4, needs: ['root', 'tcpdump', 'netns'],
    cases: [{ method: 'vmsplice', size: MiB, ...late }, { method: 'sendfile', size: 256 << 10, ...late }, { method: 'write', size: 256 << 10 }] },
  { transport: 'veth', family: 6, needs: ['root', 'tcpdump', 'netns'],
    cases: [{ method: 'splice', size: 256 << 10, ...late }, { method: 'vmsplice-gift', size: MiB, ...late }] },
];

const noTshark = tsharkUnavailableReason();
const scratch = mkdtempSync(join(tmpdir(), 'zcprobe-tshark-oracle-'));
const totals = {
  cases: 0, frames: 0, payloadBytes: 0, streamBytes: 0, retransmissions: 0,
  conflicts: 0, identicalRetransmissions: 0, casesWithConflict: 0, bundles: 0,
};
test.after.always((t) => {
  rmSync(scratch, { recursive: true, force: true });
  if (totals.cases) t.log(`tshark ${tsharkVersion()} vs zcprobe on ${release()}: ${JSON.stringify(totals)}`);
});

/** The oracle on one case's capture; every disagreement fails the test naming the frame. */
function crossCheck(t: ExecutionContext, report: CaseReport, wire: WireObservation): number {
  const file = join(scratch, `${report.id}.pcap`);
  writeFileSync(file, wire.pcap);
  const r = crossCheckWithTshark(file, wire.pcap, report.connection, wire.stream);
  t.deepEqual(r.disagreements, [], `${report.id} (${report.method} ${report.transport} IPv${report.family}): tshark and zcprobe disagree`);
  t.true(r.frames > 0 && r.frames === wire.packets, `${report.id}: ${r.frames} frames compared, the case has ${wire.packets}`);
  t.is(r.streamBytes, report.size, `${report.id}: the whole stream was compared`);
  totals.cases++;
  totals.frames += r.frames;
  totals.payloadBytes += r.payloadBytes;
  totals.streamBytes += r.streamBytes;
  totals.retransmissions += r.retransmissions;
  totals.conflicts += r.conflicts;
  totals.identicalRetransmissions += r.retransmissions - r.conflicts;
  if (r.conflicts) totals.casesWithConflict++;
  return r.conflicts;
}

/** A non-clean case's bundle: annotated pcapng, the filter everywhere, exactly its frames. */
function checkBundle(t: ExecutionContext, report: CaseReport, wire: WireObservation): void {
  const ev = report.evidence;
  if (!ev?.pcapng) return void t.fail(`${report.id} (${report.verdict}) has no case.pcapng`);
  // The bundle's one packet file holds the case's records as captured (within the whole-pcap limit these cases stay under).
  const captured = join(scratch, `${report.id}-captured.pcap`);
  writeFileSync(captured, wire.pcap);
  t.deepEqual(tsharkFrames(ev.pcapng), tsharkFrames(captured), `${report.id}: case.pcapng holds the packets as captured`);
  const section = captureFileComments(ev.pcapng).join('\n');
  for (const needle of [report.id, `kernel ${report.kernel}`, report.method, `safeguard ${report.safeguard}`, `verdict: ${report.verdict}`])
    t.true(section.includes(needle), `${report.id}: the section comment names "${needle}": ${section}`);
  const p = report.wireshark;
  if (report.verdict === 'corrupted-on-wire') t.true(p?.firstMutatedFrame !== undefined || !!p?.conflictFrames?.length, `${report.id}: a frame proves corrupted-on-wire`);
  if (report.verdict === 'corrupted-on-retransmit') t.true(!!p?.conflictFrames?.length, `${report.id}: a differing retransmission's frame proves corrupted-on-retransmit`);
  if (report.verdict === 'corrupted-after-wire') t.true(p?.receiverDiffFrame !== undefined, `${report.id}: a frame shows the intended bytes the receiver did not read`);
  if (!p) return;
  t.deepEqual(tsharkSelect(ev.pcapng, p.filter), p.frames, `${report.id}: "${p.filter}" selects exactly its frames`);
  const comments = tsharkFrameComments(ev.pcapng);
  for (const f of p.frames) t.true(comments.get(f)?.some((c) => c.startsWith('zcprobe: ')), `${report.id}: frame ${f} has a zcprobe comment`);
  if (p.firstMutatedFrame !== undefined) t.regex(comments.get(p.firstMutatedFrame)!.join('\n'), /first frame carrying bytes that differ/);
  for (const f of p.conflictFrames ?? []) t.regex(comments.get(f)!.join('\n'), /retransmission whose bytes differ/);
  // case.json's packet numbers (from the session capture) name the same frames as the bundle's files.
  if (report.wire.capture === 'captured') {
    t.deepEqual(p.conflictFrames ?? [], report.wire.conflicts.map((c) => c.againPacket + 1), `${report.id}: case.json's conflicts are the pcapng's frames`);
    t.deepEqual(p.conflictFirstFrames ?? [], report.wire.conflicts.map((c) => c.firstPacket + 1), `${report.id}: case.json's conflicts are the pcapng's frames`);
  }
  t.true(readFileSync(ev.hexDiff, 'utf8').includes(p.filter), `${report.id}: hexdiff.txt has the filter`);
  t.deepEqual(JSON.parse(readFileSync(ev.caseJson, 'utf8')).wireshark, p, `${report.id}: case.json has the filter`);
  t.true(formatCaseLine(report).includes(p.filter), `${report.id}: the case line has the filter`);
  totals.bundles++;
}

// One session per plan, one plan at a time (each has its own receiver, tcpdump and transport).
for (const plan of PLANS) {
  const title = `tshark agrees with zcprobe: ${plan.transport} IPv${plan.family}, ${plan.cases.map((c) => c.method).join(', ')}`;
  if (noTshark) test.skip(`${title} [skipped: needs tshark: ${noTshark}]`, () => {});
  else await testWithNeeds(test.serial as typeof test, title, plan.needs, async (t) => {
    const session = await Session.open({ transport: plan.transport, family: plan.family, runDir: join(scratch, `${plan.transport}-${plan.family}`) });
    try {
      const one = async (c: Case) => {
        const { report, wire } = await judgeCaseObserved(session, makeExperiment({ transport: plan.transport, family: plan.family, ...c }));
        if (!wire) throw new Error('the session ran without a capture');
        const conflicts = crossCheck(t, report, wire);
        if (report.verdict !== 'clean') checkBundle(t, report, wire);
        t.log(`${report.method} ${report.size} B ${plan.transport} IPv${plan.family}: ${report.verdict}, ${wire.packets} frames, ${wire.stream.retransmissions.length} retransmission(s), ${conflicts} differing`);
        return conflicts;
      };
      const [first, ...rest] = plan.cases;
      let tries = 0;
      let differing = 0;
      do differing = await one(first!);
      while (!differing && ++tries < (plan.wantConflict ?? 1));
      if (plan.wantConflict) t.true(differing > 0, `no retransmission with differing bytes in ${plan.wantConflict} tries of ${first!.method}: the live cross-check of differing retransmissions did not run`);
      for (const c of rest) await one(c);
    } finally {
      await session.close();
    }
  });
}

