// No combination of incomplete or foreign evidence yields a "corrupted" (or "clean") verdict: each capture is built frame by frame
// (packet builder → pcap → decoder → reassembler), judged by toCaseReport as a live case is; each once gave a false verdict (issue 10).
import test from 'ava';
import type { WireObservation } from '../capture/wire.ts';
import { buildTcpPacket, writePcap } from '../../test-support/packet-builder.ts';
import { decodePcap, LINKTYPE_ETHERNET } from '../capture/pcap.ts';
import { reassemble } from '../capture/reassembly.ts';
import { toCaseReport } from './case-report.ts';
import { makeExperiment } from '../model/experiment.ts';
import { patternA, patternB } from '../model/patterns.ts';
import type { CaseRun } from '../session/run-case.ts';

const SENDER = { src: '127.0.0.1', srcPort: 41000 };
const RECEIVER = { dst: '127.0.0.1', dstPort: 5000 };
const CONN = { ...SENDER, ...RECEIVER };
const ISN = 1_000_000;
const MSS = 16 * 1024;

interface Frame { seq?: number; payload?: Buffer; syn?: boolean; fin?: boolean; fromReceiver?: boolean; ack?: number }

/** The wire observation a capture of `frames` gives (frames in capture order). */
function observe(frames: Frame[], extra: Partial<WireObservation> = {}): WireObservation {
  const packets = frames.map((f, i) => {
    const ends = f.fromReceiver
      ? { src: CONN.dst, srcPort: CONN.dstPort, dst: CONN.src, dstPort: CONN.srcPort }
      : CONN;
    const data = buildTcpPacket({
      ...ends, seq: f.seq ?? ISN, ack: f.ack ?? 0, payload: f.payload ?? Buffer.alloc(0),
      flags: { syn: !!f.syn, ack: !f.syn || !!f.fromReceiver, fin: !!f.fin },
    });
    return { tsUs: 1_000_000 + i * 10, data };
  });
  const pcap = writePcap(LINKTYPE_ETHERNET, packets);
  const decoded = decodePcap(pcap);
  return {
    stream: reassemble(decoded.segments, CONN),
    pcap,
    packets: decoded.segments.length,
    droppedByKernel: 0,
    iface: 'lo',
    undecoded: { headerTruncated: decoded.skipped.headerTruncated, fragments: decoded.skipped.fragments },
    finished: { ok: true, reason: 'fin-acked', waitedMs: 0 },
    ...extra,
  };
}

/** The data segments of `bytes`, MSS at a time, starting after the SYN. */
function dataFrames(bytes: Uint8Array, from = 0): Frame[] {
  const out: Frame[] = [];
  for (let o = from; o < bytes.length; o += MSS)
    out.push({ seq: ISN + 1 + o, payload: Buffer.from(bytes.subarray(o, Math.min(bytes.length, o + MSS))) });
  return out;
}

const fin = (size: number): Frame => ({ seq: ISN + 1 + size, fin: true });

/** A finished case run: the receiver read `received`; the safeguard reached its point unless told. */
function caseRun(size: number, received: Uint8Array, more: Partial<CaseRun> = {}): CaseRun {
  const intended = patternA(size);
  const mutated = patternB(size);
  return {
    id: 'case-test',
    experiment: makeExperiment({ method: 'vmsplice', size }),
    connection: CONN,
    send: { bytes: size, calls: 1, shortCounts: 0, startedAt: 1000, returnedAt: 1001 },
    safeguard: { waitedMs: 0, signal: 'returned at once', reached: true },
    mutation: { mutation: 'overwrite', startedAt: 1002, mutatedAt: 1002 },
    expectation: { changes: [{ start: 0, end: size, to: 'new' }] },
    filesystem: null,
    receiver: { id: 'case-test', bytes: received.length, acceptedAt: 1000, firstReadAt: 1050, doneAt: 1100, rcvbufEffective: 0, peer: { address: SENDER.src, port: SENDER.srcPort }, ackSentAt: null },
    streams: { intended, mutated, received: Buffer.from(received) },
    ...more,
  };
}

const SIZE = 200 * 1024;
const I = patternA(SIZE);
const B = patternB(SIZE);
const synFrame: Frame = { seq: ISN, syn: true };

test('baseline: a complete anchored capture of intended bytes, receiver intact → clean', (t) => {
  const r = toCaseReport(caseRun(SIZE, I), observe([synFrame, ...dataFrames(I), fin(SIZE)]));
  t.is(r.verdict, 'clean', r.reasons.join('; '));
});

test('baseline: anchored capture carrying the mutation → corrupted-on-wire', (t) => {
  const wire = Buffer.from(I);
  B.copy(wire, 100_000, 100_000);
  const r = toCaseReport(caseRun(SIZE, wire), observe([synFrame, ...dataFrames(wire), fin(SIZE)]));
  t.is(r.verdict, 'corrupted-on-wire', r.reasons.join('; '));
});

test('1. unanchored stream: SYN and the first segment not captured → inconclusive, not corrupted-on-wire', (t) => {
  // What the issue reproduced: without the SYN the reassembler starts at the lowest sequence it
  // saw, so every later byte is compared at the wrong offset.
  const r = toCaseReport(caseRun(SIZE, I), observe([...dataFrames(I, MSS), fin(SIZE)], { droppedByKernel: 2 }));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /not anchored/);
});

test('1. more than one ISN on the 4-tuple → inconclusive', (t) => {
  const other: Frame = { seq: ISN + 77_777, syn: true };
  const r = toCaseReport(caseRun(SIZE, I), observe([synFrame, ...dataFrames(I), other, fin(SIZE)]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /different ISNs/);
});

test('2. a safeguard that did not reach its safe point → inconclusive even with mutated bytes on the wire', (t) => {
  const wire = Buffer.from(B);
  const run = caseRun(SIZE, wire, { safeguard: { waitedMs: 5000, signal: 'SIOCOUTQ still 4096 bytes after 5000 ms', reached: false } });
  const withCapture = toCaseReport(run, observe([synFrame, ...dataFrames(wire), fin(SIZE)]));
  t.is(withCapture.verdict, 'inconclusive');
  t.regex(withCapture.reasons.join(), /did not reach its safe point/);
  t.is(toCaseReport(run).verdict, 'inconclusive', 'the same without a capture');
});

test('4. bytes that are neither intended, mutation nor zero → inconclusive, on the wire and at the receiver', (t) => {
  const foreign = Buffer.from(I);
  for (let i = 5000; i < 5100; i++) foreign[i] = I[i]! ^ 0x01; // neither A nor B nor 0
  const onWire = toCaseReport(caseRun(SIZE, foreign), observe([synFrame, ...dataFrames(foreign), fin(SIZE)]));
  t.is(onWire.verdict, 'inconclusive');
  t.regex(onWire.reasons.join(), /neither intended, mutation nor zero/);
  const atReceiver = toCaseReport(caseRun(SIZE, foreign), observe([synFrame, ...dataFrames(I), fin(SIZE)]));
  t.is(atReceiver.verdict, 'inconclusive');
  t.is(toCaseReport(caseRun(SIZE, foreign)).verdict, 'inconclusive', 'two-way too');
});

test('5. a segment before the stream start (older connection on the 4-tuple) → inconclusive', (t) => {
  const stale: Frame = { seq: ISN - 5000, payload: Buffer.alloc(100, 7) };
  const r = toCaseReport(caseRun(SIZE, I), observe([synFrame, stale, ...dataFrames(I), fin(SIZE)]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /before the stream start/);
});

test('5. frames with truncated headers in the case chunk → inconclusive', (t) => {
  const truncated = observe([synFrame, ...dataFrames(I), fin(SIZE)], { undecoded: { headerTruncated: 1, fragments: 0 } });
  const r = toCaseReport(caseRun(SIZE, I), truncated);
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /truncated headers/);
});

test('5. snaplen-cut payloads and uncompared overlaps → inconclusive', (t) => {
  const frames = [synFrame, ...dataFrames(I), fin(SIZE)];
  const obs = observe(frames);
  const cut = { ...obs, stream: { ...obs.stream, truncatedPayloads: 1, uncomparedOverlaps: 2 } };
  const r = toCaseReport(caseRun(SIZE, I), cut);
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /snaplen/);
  t.regex(r.reasons.join(), /could not be compared/);
});

test("5. the receiver's peer is not the captured connection → inconclusive", (t) => {
  const run = caseRun(SIZE, I);
  run.receiver = { ...run.receiver, peer: { address: '127.0.0.1', port: 41001 } };
  const r = toCaseReport(run, observe([synFrame, ...dataFrames(I), fin(SIZE)]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /peer/);
  // an IPv4-mapped peer address is the same host
  const mapped = caseRun(SIZE, I);
  mapped.receiver = { ...mapped.receiver, peer: { address: '::ffff:127.0.0.1', port: SENDER.srcPort } };
  t.is(toCaseReport(mapped, observe([synFrame, ...dataFrames(I), fin(SIZE)])).verdict, 'clean');
});

test('6. a connection not finished on the wire when collected → inconclusive', (t) => {
  const r = toCaseReport(caseRun(SIZE, I), observe([synFrame, ...dataFrames(I)], { finished: { ok: false, reason: 'no FIN within 2000 ms', waitedMs: 2000 } }));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /not finished/);
});

test('7. a retransmission carrying the mutation while receiver and first transmission are intact → corrupted-on-retransmit', (t) => {
  const again: Frame = { seq: ISN + 1 + MSS, payload: Buffer.from(B.subarray(MSS, 2 * MSS)) };
  const r = toCaseReport(caseRun(SIZE, I), observe([synFrame, ...dataFrames(I), again, fin(SIZE)]));
  t.is(r.verdict, 'corrupted-on-retransmit', r.reasons.join('; '));
  t.is(r.wire.capture === 'captured' ? r.wire.conflicts[0]!.changed.equalsMutation : -1, MSS);
  // and with the receiver holding the changed bytes, it is corruption on the wire
  const got = Buffer.from(I);
  B.copy(got, MSS, MSS, 2 * MSS);
  t.is(toCaseReport(caseRun(SIZE, got), observe([synFrame, ...dataFrames(I), again, fin(SIZE)])).verdict, 'corrupted-on-wire');
});

test('7. a retransmission whose changed bytes are foreign → inconclusive', (t) => {
  const junk = Buffer.from(I.subarray(MSS, 2 * MSS));
  junk[10] = junk[10]! ^ 0x01;
  const r = toCaseReport(caseRun(SIZE, I), observe([synFrame, ...dataFrames(I), { seq: ISN + 1 + MSS, payload: junk }, fin(SIZE)]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join(), /retransmission #1/);
});

test('drops with an anchored mutated wire stay proof; drops with an intact wire are inconclusive', (t) => {
  const wire = Buffer.from(B);
  t.is(toCaseReport(caseRun(SIZE, wire), observe([synFrame, ...dataFrames(wire), fin(SIZE)], { droppedByKernel: 3 })).verdict, 'corrupted-on-wire');
  t.is(toCaseReport(caseRun(SIZE, I), observe([synFrame, ...dataFrames(I), fin(SIZE)], { droppedByKernel: 3 })).verdict, 'inconclusive');
});
