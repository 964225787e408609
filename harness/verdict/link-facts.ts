// Facts from a link with two capture points (tun): bytes changed in flight or segments lost without a drop to explain them are
// integrity problems; injected faults are notes. Pure: decoded captures and counters in, facts out (docs/tun.md).
import { decodePcap, type TcpSegment } from '../capture/pcap.ts';
import type { ConnectionTuple, WireObservation } from '../capture/wire.ts';
import { compareStreams, type Mismatch } from './verdict.ts';
import { describeEvent } from '../model/link-spec.ts';
import type { LinkCaseFacts, LinkEvent } from '../world/transport/types.ts';

export interface ArrivedReport extends Mismatch {
  iface: string;
  packets: number;
  /** contiguous bytes from offset 0 that reached the receiving kernel */
  bytes: number;
  retransmissions: number;
  /** retransmissions whose bytes differ from what arrived first at that offset */
  conflicts: number;
  droppedByKernel: number;
  /** s2r data segments in each capture */
  dataSegmentsSent: number;
  dataSegmentsArrived: number;
  /** arrived data segments whose bytes differ from every segment that left with the same seq/len */
  changedInFlight: number;
  /** left the sender, never arrived, and no drop of the link explains them */
  unexplainedMissing: number;
  /** the arrived capture, in the evidence bundle (set when the bundle is written) */
  pcap?: string;
}

export interface LinkReport extends LinkCaseFacts {
  arrived?: ArrivedReport;
  /** facts that make the case inconclusive (they join the wire's integrity list) */
  integrity: string[];
  /** what the link injected, one sentence each (they join the verdict's reasons) */
  notes: string[];
}

const MAX_NOTES = 8;

const isS2R = (c: ConnectionTuple) => (s: TcpSegment): boolean =>
  s.src === c.src && s.srcPort === c.srcPort && s.dst === c.dst && s.dstPort === c.dstPort;

/** Segments keyed by "seq:length" → their payloads, each usable once, for matching what arrived
 * with what left. */
function bySeq(segs: TcpSegment[]): Map<string, { payload: Buffer; used: boolean }[]> {
  const m = new Map<string, { payload: Buffer; used: boolean }[]>();
  for (const s of segs) {
    const k = `${s.seq}:${s.payloadLength}`;
    const list = m.get(k) ?? [];
    list.push({ payload: s.payload, used: false });
    m.set(k, list);
  }
  return m;
}

export interface SegmentMatch {
  sent: number;
  arrived: number;
  /** arrived with a seq/len that left, but with other bytes */
  changed: number;
  /** arrived with a seq/len (and bytes) that never left, or more often than it left */
  unseen: number;
  /** left and never arrived */
  missing: number;
  firstChange?: { seq: number; len: number };
}

/** Matches the s2r data segments of two captures of one connection (a multiset: a segment sent
 * twice must arrive twice to leave nothing missing). Truncated payloads are not compared. */
export function matchSegments(sentSegs: TcpSegment[], arrivedSegs: TcpSegment[]): SegmentMatch {
  const data = (s: TcpSegment) => s.payloadLength > 0 && !s.payloadTruncated;
  const sent = sentSegs.filter(data), arrived = arrivedSegs.filter(data);
  const left = bySeq(sent);
  const out: SegmentMatch = { sent: sent.length, arrived: arrived.length, changed: 0, unseen: 0, missing: 0 };
  for (const a of arrived) {
    const same = left.get(`${a.seq}:${a.payloadLength}`) ?? [];
    const equal = same.filter((p) => p.payload.equals(a.payload));
    const unused = equal.find((p) => !p.used);
    if (unused) unused.used = true;
    else if (equal.length || !same.length) out.unseen++;
    else {
      out.changed++;
      out.firstChange ??= { seq: a.seq, len: a.payloadLength };
    }
  }
  for (const list of left.values()) out.missing += list.filter((p) => !p.used).length;
  return out;
}

/** Drops the link itself accounts for on this connection's s2r data path. */
function explainedDrops(facts: LinkCaseFacts): number {
  const injected = facts.events.filter((e: LinkEvent) => e.kind === 'drop' && e.dir === 's2r' && e.len > 0).length;
  return injected + facts.deviceDrops.sender + facts.relay.s2r.errors;
}

export function linkReport(
  conn: ConnectionTuple,
  intended: Uint8Array,
  mutated: Uint8Array,
  wire: WireObservation | undefined,
  arrived: WireObservation | undefined,
  facts: LinkCaseFacts,
): LinkReport {
  const integrity = [...facts.problems];
  const notes = facts.events.slice(0, MAX_NOTES).map(describeEvent);
  if (facts.events.length > MAX_NOTES) notes.push(`… and ${facts.events.length - MAX_NOTES} more link event(s) (case.json lists them all)`);
  const unasked = facts.relay.s2r.overflow + facts.relay.r2s.overflow;
  if (unasked) notes.push(`the link's queue overflowed ${unasked} time(s) (packets dropped, as a full router queue would)`);
  if (facts.deviceDrops.sender || facts.deviceDrops.receiver)
    notes.push(`the TUN devices dropped ${facts.deviceDrops.sender} (sender side) and ${facts.deviceDrops.receiver} (receiver side) packet(s) on their queue to the relay`);
  if (!wire || !arrived) return { ...facts, integrity, notes };

  const s2r = isS2R(conn);
  const segs = (o: WireObservation) => (o.segments ?? decodePcap(o.pcap).segments).filter(s2r);
  const m = matchSegments(segs(wire), segs(arrived));
  if (arrived.droppedByKernel) integrity.push(`the receiver-side capture dropped ${arrived.droppedByKernel} packet(s): what reached the receiver cannot be checked against what left`);
  if (!arrived.stream.sawSyn) integrity.push('the receiver-side capture holds no SYN of this connection');
  if (m.changed) integrity.push(`${m.changed} data segment(s) arrived with bytes that differ from what left the sender with the same sequence number (first: seq ${m.firstChange!.seq}, ${m.firstChange!.len} B): the link changed them — a relay bug, not a kernel finding`);
  if (m.unseen && !wire.droppedByKernel) integrity.push(`${m.unseen} data segment(s) reached the receiver that the sender-side capture never saw leave (or saw leave fewer times)`);
  const unexplained = Math.max(0, m.missing - explainedDrops(facts));
  if (unexplained) integrity.push(`${unexplained} data segment(s) left the sender and never reached the receiver, and no drop of the link explains them`);

  const s = arrived.stream;
  const size = intended.length;
  const mismatch = compareStreams(intended, s.bytes.subarray(0, Math.min(s.length, size)), mutated);
  return {
    ...facts,
    arrived: {
      iface: arrived.iface,
      packets: arrived.packets,
      bytes: s.length,
      ...mismatch,
      lengthDelta: s.length - size,
      retransmissions: s.retransmissions.length,
      conflicts: s.conflicts.length,
      droppedByKernel: arrived.droppedByKernel,
      dataSegmentsSent: m.sent,
      dataSegmentsArrived: m.arrived,
      changedInFlight: m.changed,
      unexplainedMissing: unexplained,
    },
    integrity,
    notes,
  };
}
