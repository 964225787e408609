// Per-direction TCP stream reassembly over decoded pcap segments.
//
// The question this answers is "which bytes first crossed the wire at each stream offset", so
// the first transmission (in capture order) always wins, later retransmissions are only
// compared against it, and bytes the capture did not record (snaplen) stay unknown.
// Storage is an ordered, non-overlapping list of pieces that reference the segments' payload
// Buffers, so a 16 MiB stream costs a few hundred array entries, not per-byte objects.

import type { TcpSegment } from './pcap.ts';

export interface Retransmission {
  seqStart: number; // relative stream offsets [seqStart, seqEnd) of the overlap
  seqEnd: number;
  firstPacket: number; // packet index of the first transmission
  againPacket: number; // packet index of the retransmission
  firstTsUs: number;
  againTsUs: number;
  identical: boolean;
  /** Only when not identical: both versions of the overlap [seqStart, seqEnd). */
  firstBytes?: Buffer;
  againBytes?: Buffer;
  /** Only when not identical: stream offset of the first differing byte, and how many differ. */
  firstDifferenceAt?: number;
  differingBytes?: number;
}

export interface StreamGap {
  start: number;
  end: number;
  /** missing: no packet carried these bytes; uncaptured: a packet did, but snaplen cut them off. */
  kind: 'missing' | 'uncaptured';
}

export interface ReassembledStream {
  isn: number | null; // SYN's sequence number if seen, else the lowest sequence number seen
  sawSyn: boolean;
  /** distinct sequence numbers among this direction's SYNs: more than one means two connections
   * (e.g. a reused 4-tuple) share the capture, and offsets cannot be trusted */
  synIsns: number;
  sawFin: boolean;
  sawRst: boolean;
  bytes: Buffer; // contiguous from offset 0 up to the first gap
  length: number; // bytes.length
  /** End of the stream as far as the capture shows: last byte carried, or the FIN's offset. */
  extent: number;
  gaps: StreamGap[];
  retransmissions: Retransmission[];
  conflicts: Retransmission[]; // retransmissions whose bytes differ from the first transmission
  firstTsUsAt(offset: number): number | undefined; // timestamp of the first packet carrying `offset`
  truncatedPayloads: number; // segments whose payload snaplen cut short
  /** Overlaps that could not be compared because one side was not captured (snaplen). */
  uncomparedOverlaps: number;
  /** Segments lying (partly) before the stream start, e.g. from an older connection on the same 4-tuple. */
  outOfWindowSegments: number;
}

interface Piece {
  start: number;
  end: number;
  packet: number;
  tsUs: number;
  data: Buffer | null; // null: carried on the wire but not captured
}

export function reassemble(
  segments: TcpSegment[],
  dir: { src: string; srcPort: number; dst: string; dstPort: number },
): ReassembledStream {
  const mine = segments
    .filter((s) => s.src === dir.src && s.srcPort === dir.srcPort && s.dst === dir.dst && s.dstPort === dir.dstPort)
    .sort((a, b) => a.index - b.index); // capture order decides what was "first"

  const syn = mine.find((s) => s.flags.syn);
  let isn: number | null = null;
  let base = 0; // sequence number of stream offset 0
  if (syn) {
    isn = syn.seq;
    base = (syn.seq + 1) >>> 0; // the SYN consumes one sequence number
  } else if (mine.length > 0) {
    // Without a SYN, start at the lowest sequence number, compared in 32-bit serial arithmetic
    // relative to the first one seen (streams are far smaller than 2^31 bytes).
    const first = mine[0]!.seq;
    let minRel = 0;
    for (const s of mine) minRel = Math.min(minRel, (s.seq - first) | 0);
    base = (first + minRel) >>> 0;
    isn = base;
  }
  // Signed distance from base, so wrap-around (ISN near 2^32) just works.
  const rel = (seq: number) => (seq - base) | 0;

  let pieces: Piece[] = [];
  const retransmissions: Retransmission[] = [];
  let truncatedPayloads = 0;
  let uncomparedOverlaps = 0;
  let outOfWindowSegments = 0;
  let finOffset: number | undefined;

  for (const s of mine) {
    const start = rel(s.flags.syn ? s.seq + 1 : s.seq);
    if (s.flags.fin && finOffset === undefined) finOffset = start + s.payloadLength;
    if (s.payloadLength === 0) continue;
    if (s.payloadTruncated) truncatedPayloads++;
    let known = s.payload;
    let from = start;
    if (start < 0) {
      outOfWindowSegments++;
      if (start + s.payloadLength <= 0) continue;
      known = known.subarray(Math.min(known.length, -start));
      from = 0;
    }
    const knownEnd = from + known.length;
    place(from, knownEnd, known, s);
    place(knownEnd, start + s.payloadLength, null, s);
  }

  function place(start: number, end: number, data: Buffer | null, s: TcpSegment): void {
    if (start >= end) return;
    // First piece that ends after `start` (binary search; pieces are sorted and disjoint).
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pieces[mid]!.end <= start) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    const merged: Piece[] = [];
    let cursor = start;
    let i = first;
    const fresh = (a: number, b: number): Piece => ({
      start: a, end: b, packet: s.index, tsUs: s.tsUs, data: data && data.subarray(a - start, b - start),
    });
    while (cursor < end) {
      const p = pieces[i];
      if (!p || p.start >= end) {
        merged.push(fresh(cursor, end));
        break;
      }
      if (p.start > cursor) merged.push(fresh(cursor, p.start));
      const ovStart = Math.max(cursor, p.start);
      const ovEnd = Math.min(p.end, end);
      if (p.data === null || data === null) {
        uncomparedOverlaps++;
      } else {
        const a = p.data.subarray(ovStart - p.start, ovEnd - p.start);
        const b = data.subarray(ovStart - start, ovEnd - start);
        // One record per earlier packet overlapped: each is its own "first transmission".
        retransmissions.push(compareOverlap({
          seqStart: ovStart, seqEnd: ovEnd, firstPacket: p.packet, againPacket: s.index,
          firstTsUs: p.tsUs, againTsUs: s.tsUs, identical: true,
        }, a, b));
      }
      merged.push(p);
      cursor = ovEnd;
      i++;
    }
    // Spread arguments are limited in number; a huge retransmission over many tiny pieces is rebuilt instead.
    if (merged.length < 10_000) pieces.splice(first, i - first, ...merged);
    else pieces = [...pieces.slice(0, first), ...merged, ...pieces.slice(i)];
  }

  // Contiguous known prefix, gaps, and extent.
  const prefix: Buffer[] = [];
  let contiguous = 0;
  for (const p of pieces) {
    if (p.start !== contiguous || p.data === null) break;
    prefix.push(p.data);
    contiguous = p.end;
  }
  const extent = Math.max(pieces.length ? pieces[pieces.length - 1]!.end : 0, finOffset ?? 0);
  const gaps: StreamGap[] = [];
  const addGap = (start: number, end: number, kind: StreamGap['kind']) => {
    const last = gaps[gaps.length - 1];
    if (last && last.kind === kind && last.end === start) last.end = end;
    else gaps.push({ start, end, kind });
  };
  let cursor = 0;
  for (const p of pieces) {
    if (p.start > cursor) addGap(cursor, p.start, 'missing');
    if (p.data === null) addGap(p.start, p.end, 'uncaptured');
    cursor = p.end;
  }
  if (cursor < extent) addGap(cursor, extent, 'missing');

  const bytes = Buffer.concat(prefix);
  return {
    isn, sawSyn: !!syn, synIsns: new Set(mine.filter((s) => s.flags.syn).map((s) => s.seq)).size, sawFin: mine.some((s) => s.flags.fin), sawRst: mine.some((s) => s.flags.rst),
    bytes, length: bytes.length, extent, gaps,
    retransmissions,
    conflicts: retransmissions.filter((r) => !r.identical),
    firstTsUsAt(offset: number): number | undefined {
      let lo = 0;
      let hi = pieces.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pieces[mid]!.end <= offset) lo = mid + 1;
        else hi = mid;
      }
      const p = pieces[lo];
      return p && p.start <= offset ? p.tsUs : undefined;
    },
    truncatedPayloads, uncomparedOverlaps, outOfWindowSegments,
  };
}

/** Compare the two versions; keep the bytes only when they differ (identical ones are noise). */
function compareOverlap(r: Retransmission, first: Buffer, again: Buffer): Retransmission {
  if (first.equals(again)) return r;
  let firstDiff = -1;
  let differing = 0;
  for (let k = 0; k < first.length; k++) {
    if (first[k] !== again[k]) {
      if (firstDiff < 0) firstDiff = k;
      differing++;
    }
  }
  return { ...r, identical: false, firstBytes: first, againBytes: again, firstDifferenceAt: r.seqStart + firstDiff, differingBytes: differing };
}
