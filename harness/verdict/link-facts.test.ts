// The link's facts from two captures: an arrived segment must have left with the same bytes (else
// the relay changed them: inconclusive), a segment that left and never arrived must be one the
// link says it dropped, and injected faults are notes, not problems.
import test from 'ava';
import { decodePcap, LINKTYPE_RAW } from '../capture/pcap.ts';
import { buildTcpPacket, writePcap } from '../../test-support/packet-builder.ts';
import { reassemble } from '../capture/reassembly.ts';
import type { WireObservation } from '../capture/wire.ts';
import { patternA, patternB } from '../model/patterns.ts';
import { linkReport, matchSegments } from './link-facts.ts';
import type { LinkCaseFacts, LinkEvent } from '../world/transport/types.ts';

const CONN = { src: '10.200.0.1', srcPort: 40000, dst: '10.200.0.2', dstPort: 5000 };
const ISN = 1000;
const MSS = 1000;
const SIZE = 5 * MSS;
const I = patternA(SIZE), M = patternB(SIZE);

/** Data segment `i` (0-based) of `stream`, as a fresh Buffer. */
const segmentOf = (stream: Uint8Array, i: number): Buffer => Buffer.from(stream.subarray(i * MSS, (i + 1) * MSS));

/** A capture of the connection: SYN, then the data segments `which` (indexes) with `bytes`. */
function capture(which: number[], bytes: (i: number) => Buffer = (i) => segmentOf(I, i)): WireObservation {
  const frames = [
    buildTcpPacket({ ...CONN, seq: ISN, flags: { syn: true }, linkType: LINKTYPE_RAW }),
    ...which.map((i) =>
      buildTcpPacket({ ...CONN, seq: ISN + 1 + i * MSS, ack: 1, flags: { ack: true }, payload: bytes(i), linkType: LINKTYPE_RAW })),
  ].map((data, i) => ({ tsUs: 1_000_000 + i, data }));
  const pcap = writePcap(LINKTYPE_RAW, frames);
  const segments = decodePcap(pcap).segments;
  return { stream: reassemble(segments, CONN), pcap, segments, packets: segments.length, droppedByKernel: 0, iface: 'tun', undecoded: { headerTruncated: 0, fragments: 0 }, finished: { ok: true, reason: 'fin-acked', waitedMs: 0 } };
}

const drop = (segment: number): LinkEvent => ({ kind: 'drop', cause: 'loss', dir: 's2r', at: 0, ...CONN, seq: ISN + 1 + (segment - 1) * MSS, len: MSS, flags: 16, offset: (segment - 1) * MSS, segment, retransmission: false });
const zero = { packets: 0, bytes: 0, dropped: 0, reordered: 0, overflow: 0, errors: 0 };
const facts = (events: LinkEvent[] = [], more: Partial<LinkCaseFacts> = {}): LinkCaseFacts =>
  ({ events, relay: { s2r: zero, r2s: zero }, relayCpuMs: 0, deviceDrops: { sender: 0, receiver: 0 }, config: {}, problems: [], ...more });

test('a faithful link: every segment arrived unchanged, no problem, no note', (t) => {
  const r = linkReport(CONN, I, M, capture([0, 1, 2, 3, 4]), capture([0, 1, 2, 3, 4]), facts());
  t.deepEqual(r.integrity, []);
  t.deepEqual(r.notes, []);
  t.like(r.arrived, {
    bytes: SIZE, mismatchedBytes: 0, dataSegmentsSent: 5, dataSegmentsArrived: 5, changedInFlight: 0, unexplainedMissing: 0,
  });
});

test('a dropped segment the link reports is a note; its retransmission left and arrived with the mutation', (t) => {
  // Left: #1..#5 as I, then segment index 2 again with the mutation (a retransmission after reuse).
  const leftFrames = [0, 1, 2, 3, 4, 2];
  let n = 0;
  const left = capture(leftFrames, (i) => (i === 2 && n++ === 1 ? segmentOf(M, 2) : segmentOf(I, i)));
  // Arrived: the first copy of index 2 was dropped, the mutated retransmission arrived.
  const arrived = capture([0, 1, 3, 4, 2], (i) => (i === 2 ? segmentOf(M, 2) : segmentOf(I, i)));
  const r = linkReport(CONN, I, M, left, arrived, facts([drop(3)]));
  t.deepEqual(r.integrity, [], 'one segment missing, and the link dropped one');
  t.regex(r.notes[0]!, /dropped data segment #3 at stream offset 2000/);
  t.like(r.arrived, { changedInFlight: 0, unexplainedMissing: 0, mismatchedBytes: MSS, equalsMutation: MSS, firstOffset: 2 * MSS });
});

test('a segment that vanished without a drop of the link is an integrity problem', (t) => {
  const r = linkReport(CONN, I, M, capture([0, 1, 2, 3, 4]), capture([0, 1, 3, 4]), facts());
  t.is(r.arrived?.unexplainedMissing, 1);
  t.regex(r.integrity.join(), /1 data segment\(s\) left the sender and never reached the receiver/);
});

test('device drops and relay write errors explain missing segments too', (t) => {
  const sent = capture([0, 1, 2, 3, 4]), got = capture([0, 3, 4]);
  const explained = facts([], { deviceDrops: { sender: 1, receiver: 0 }, relay: { s2r: { ...zero, errors: 1 }, r2s: zero } });
  t.deepEqual(linkReport(CONN, I, M, sent, got, explained).integrity, []);
});

test('bytes changed in flight: inconclusive, never a finding', (t) => {
  const arrived = capture([0, 1, 2, 3, 4], (i) => {
    const b = segmentOf(I, i);
    if (i === 1) b[7] = (b[7] ?? 0) ^ 1;
    return b;
  });
  const r = linkReport(CONN, I, M, capture([0, 1, 2, 3, 4]), arrived, facts());
  t.regex(r.integrity.join(), /the link changed them — a relay bug/);
  t.is(r.arrived?.changedInFlight, 1);
});

test('a segment that arrived but never left, and the relay\'s own problems, are integrity problems', (t) => {
  const r = linkReport(CONN, I, M, capture([0, 1, 2]), capture([0, 1, 2, 3]), facts([], { problems: ['the relay did not answer'] }));
  t.true(r.integrity.includes('the relay did not answer'));
  t.regex(r.integrity.join(), /1 data segment\(s\) reached the receiver that the sender-side capture never saw leave/);
});

test('a receiver-side capture that dropped packets cannot vouch for the link', (t) => {
  const r = linkReport(CONN, I, M, capture([0, 1, 2, 3, 4]), { ...capture([0, 1, 2, 3, 4]), droppedByKernel: 3 }, facts());
  t.regex(r.integrity.join(), /receiver-side capture dropped 3 packet/);
});

test('matchSegments is a multiset match: a segment sent twice must arrive twice', (t) => {
  const twice = capture([0, 1, 1]).segments!, once = capture([0, 1]).segments!;
  t.like(matchSegments(twice, once), { sent: 3, arrived: 2, missing: 1, changed: 0, unseen: 0 });
  t.like(matchSegments(once, twice), { sent: 2, arrived: 3, missing: 0, changed: 0, unseen: 1 });
});

test('without captures only the link\'s own facts and notes remain', (t) => {
  const linkOnly = facts([drop(1), drop(2)], { relay: { s2r: { ...zero, overflow: 2 }, r2s: zero } });
  const r = linkReport(CONN, I, M, undefined, undefined, linkOnly);
  t.is(r.arrived, undefined);
  t.is(r.notes.length, 3);
  t.regex(r.notes[2]!, /queue overflowed 2 time/);
});

test('in the verdict: injected notes join the reasons and change nothing; link integrity makes it inconclusive', async (t) => {
  const { decideVerdict, compareStreams } = await import('./verdict.ts');
  const same = compareStreams(I, Buffer.from(I), M);
  const wire = { mismatch: same, complete: true, conflicts: [], droppedByKernel: 0, integrity: [] as string[] };
  t.deepEqual(decideVerdict(same, { ...wire, injected: ['the link dropped data segment #3'] }, []), { verdict: 'clean', reasons: ['the link dropped data segment #3'] });
  const bug = linkReport(CONN, I, M, capture([0, 1, 2, 3, 4]), capture([0, 1, 2, 3]), facts());
  t.is(decideVerdict(same, { ...wire, integrity: bug.integrity }, []).verdict, 'inconclusive');
});
