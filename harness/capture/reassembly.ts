// Per-direction TCP stream reassembly: which bytes first crossed the wire at each offset. The first transmission (capture
// order) wins, retransmissions are compared against it, bytes snaplen cut stay unknown. Pieces reference the segments'
// payload Buffers, so a 16 MiB stream is a few hundred array entries, not per-byte objects.

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
  const { isn, base } = streamStart(mine, syn);
  // Signed distance from base, so wrap-around (ISN near 2^32) just works.
  const placed = placeSegments(mine, (seq) => (seq - base) | 0);
  const { pieces, retransmissions } = placed;
  const extent = Math.max(pieces.length ? pieces[pieces.length - 1]!.end : 0, placed.finOffset ?? 0);
  const bytes = knownPrefix(pieces);
  return {
    isn, sawSyn: !!syn, synIsns: new Set(mine.filter((s) => s.flags.syn).map((s) => s.seq)).size,
    sawFin: mine.some((s) => s.flags.fin), sawRst: mine.some((s) => s.flags.rst),
    bytes, length: bytes.length, extent, gaps: gapsOf(pieces, extent),
    retransmissions,
    conflicts: retransmissions.filter((r) => !r.identical),
    firstTsUsAt(offset: number): number | undefined {
      const p = pieces[firstEndingAfter(pieces, offset)];
      return p && p.start <= offset ? p.tsUs : undefined;
    },
    truncatedPayloads: placed.truncatedPayloads,
    uncomparedOverlaps: placed.uncomparedOverlaps,
    outOfWindowSegments: placed.outOfWindowSegments,
  };
}

/** The sequence number of stream offset 0, and the ISN reported: the SYN's when the capture has one. */
function streamStart(mine: TcpSegment[], syn: TcpSegment | undefined): { isn: number | null; base: number } {
  if (syn) return { isn: syn.seq, base: (syn.seq + 1) >>> 0 }; // the SYN consumes one sequence number
  if (mine.length === 0) return { isn: null, base: 0 };
  // Without a SYN, start at the lowest sequence number, compared in 32-bit serial arithmetic
  // relative to the first one seen (streams are far smaller than 2^31 bytes).
  const first = mine[0]!.seq;
  let minRel = 0;
  for (const s of mine) minRel = Math.min(minRel, (s.seq - first) | 0);
  const base = (first + minRel) >>> 0;
  return { isn: base, base };
}

/** The stream so far: disjoint pieces in offset order, and what placing the segments found. */
interface Placed {
  pieces: Piece[];
  retransmissions: Retransmission[];
  truncatedPayloads: number;
  uncomparedOverlaps: number;
  outOfWindowSegments: number;
  finOffset: number | undefined;
}

/** Places each segment's bytes in capture order: its captured part, then the part snaplen cut (data null). */
function placeSegments(mine: TcpSegment[], rel: (seq: number) => number): Placed {
  const st: Placed = {
    pieces: [], retransmissions: [], truncatedPayloads: 0, uncomparedOverlaps: 0, outOfWindowSegments: 0, finOffset: undefined,
  };
  for (const s of mine) {
    const start = rel(s.flags.syn ? s.seq + 1 : s.seq);
    if (s.flags.fin && st.finOffset === undefined) st.finOffset = start + s.payloadLength;
    if (s.payloadLength === 0) continue;
    if (s.payloadTruncated) st.truncatedPayloads++;
    let known = s.payload;
    let from = start;
    if (start < 0) {
      st.outOfWindowSegments++;
      if (start + s.payloadLength <= 0) continue;
      known = known.subarray(Math.min(known.length, -start));
      from = 0;
    }
    const knownEnd = from + known.length;
    place(st, from, knownEnd, known, s);
    place(st, knownEnd, start + s.payloadLength, null, s);
  }
  return st;
}

/** Index of the first piece that ends after `offset` (binary search; pieces are sorted and disjoint). */
function firstEndingAfter(pieces: Piece[], offset: number): number {
  let lo = 0;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pieces[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The later bytes in an overlap: where they start in the stream, and their segment. */
interface Later {
  start: number;
  data: Buffer | null;
  s: TcpSegment;
}

/** Fills [start, end) of segment s where nothing lies yet; where an earlier piece lies, it stays and the overlap is compared. */
function place(st: Placed, start: number, end: number, data: Buffer | null, s: TcpSegment): void {
  if (start >= end) return;
  const first = firstEndingAfter(st.pieces, start);
  const merged: Piece[] = [];
  let cursor = start;
  let i = first;
  const fresh = (a: number, b: number): Piece => ({
    start: a, end: b, packet: s.index, tsUs: s.tsUs, data: data && data.subarray(a - start, b - start),
  });
  while (cursor < end) {
    const p = st.pieces[i];
    if (!p || p.start >= end) {
      merged.push(fresh(cursor, end));
      break;
    }
    if (p.start > cursor) merged.push(fresh(cursor, p.start));
    const ovEnd = Math.min(p.end, end);
    overlap(st, p, Math.max(cursor, p.start), ovEnd, { start, data, s });
    merged.push(p);
    cursor = ovEnd;
    i++;
  }
  // Spread arguments are limited in number; a huge retransmission over many tiny pieces is rebuilt instead.
  if (merged.length < 10_000) st.pieces.splice(first, i - first, ...merged);
  else st.pieces = [...st.pieces.slice(0, first), ...merged, ...st.pieces.slice(i)];
}

/** A later segment's bytes (`again.data` starts at offset `again.start`) over [ovStart, ovEnd) of an earlier piece p. */
function overlap(st: Placed, p: Piece, ovStart: number, ovEnd: number, again: Later): void {
  if (p.data === null || again.data === null) {
    st.uncomparedOverlaps++;
    return;
  }
  const a = p.data.subarray(ovStart - p.start, ovEnd - p.start);
  const b = again.data.subarray(ovStart - again.start, ovEnd - again.start);
  // One record per earlier packet overlapped: each is its own "first transmission".
  st.retransmissions.push(compareOverlap({
    seqStart: ovStart, seqEnd: ovEnd, firstPacket: p.packet, againPacket: again.s.index,
    firstTsUs: p.tsUs, againTsUs: again.s.tsUs, identical: true,
  }, a, b));
}

/** The known bytes from offset 0 up to the first gap or uncaptured piece. */
function knownPrefix(pieces: Piece[]): Buffer {
  const prefix: Buffer[] = [];
  let contiguous = 0;
  for (const p of pieces) {
    if (p.start !== contiguous || p.data === null) break;
    prefix.push(p.data);
    contiguous = p.end;
  }
  return Buffer.concat(prefix);
}

/** Missing and uncaptured ranges up to `extent`; adjacent ranges of one kind are merged. */
function gapsOf(pieces: Piece[], extent: number): StreamGap[] {
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
  return gaps;
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
  return {
    ...r, identical: false, firstBytes: first, againBytes: again, firstDifferenceAt: r.seqStart + firstDiff, differingBytes: differing,
  };
}
