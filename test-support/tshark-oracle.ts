// Cross-check of zcprobe's pcap decoder (pcap.ts) and reassembler (reassembly.ts) against tshark:
// 1. frame by frame: number, time, addresses, ports, raw sequence number, flags, length, payload;
// 2. the first-transmission stream and the retransmissions, rebuilt here from tshark's frames by
//    a deliberately plain algorithm (one owner frame per stream byte) sharing no code with
//    reassembly.ts;
// 3. the stream bytes against Wireshark's own "Follow TCP Stream" reassembly;
// 4. every retransmission zcprobe reports is one tshark's TCP analysis flags too.
// Each disagreement is one line naming the frame (1-based, as Wireshark numbers it).
import { decodePcap, type TcpSegment } from '../harness/capture/pcap.ts';
import { reassemble, type ReassembledStream, type Retransmission } from '../harness/capture/reassembly.ts';
import { tsharkFollow, tsharkFrames, type TsharkFrame } from './tshark.ts';

export interface Direction {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

export interface OracleResult {
  /** TCP frames compared field by field */
  frames: number;
  /** payload bytes compared frame by frame */
  payloadBytes: number;
  /** first-transmission stream bytes compared (sender → receiver) */
  streamBytes: number;
  retransmissions: number;
  conflicts: number;
  disagreements: string[];
}

/** A retransmission as both sides describe it: frames 1-based. */
export interface OverlapRecord {
  firstFrame: number;
  againFrame: number;
  seqStart: number;
  seqEnd: number;
  identical: boolean;
  firstDifferenceAt?: number;
  differingBytes?: number;
}

const FLAG_BITS = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10 } as const;

function flagBits(s: TcpSegment): number {
  let b = 0;
  for (const [name, bit] of Object.entries(FLAG_BITS)) if (s.flags[name as keyof typeof FLAG_BITS]) b |= bit;
  return b;
}

/** Frame-by-frame comparison; returns disagreements and the payload bytes compared. */
export function compareFrames(ours: TcpSegment[], theirs: TsharkFrame[]): { disagreements: string[]; payloadBytes: number } {
  const out: string[] = [];
  let payloadBytes = 0;
  if (ours.length !== theirs.length) out.push(`tshark sees ${theirs.length} TCP frames, zcprobe decodes ${ours.length}`);
  const byNumber = new Map(theirs.map((f) => [f.number, f]));
  for (const s of ours) {
    const n = s.index + 1;
    const f = byNumber.get(n);
    if (!f) {
      out.push(`frame ${n}: zcprobe decodes a TCP segment, tshark has no TCP frame ${n}`);
      continue;
    }
    const differs = (what: string, t: unknown, z: unknown) => out.push(`frame ${n}: ${what}: tshark ${String(t)}, zcprobe ${String(z)}`);
    if (f.tsUs !== s.tsUs) differs('time (µs)', f.tsUs, s.tsUs);
    if (f.src !== s.src) differs('source address', f.src, s.src);
    if (f.dst !== s.dst) differs('destination address', f.dst, s.dst);
    if (f.srcPort !== s.srcPort) differs('source port', f.srcPort, s.srcPort);
    if (f.dstPort !== s.dstPort) differs('destination port', f.dstPort, s.dstPort);
    if (f.seq !== s.seq) differs('tcp.seq_raw', f.seq, s.seq);
    if ((f.flags & 0x1f) !== flagBits(s)) differs('flags (FIN SYN RST PSH ACK)', `0x${(f.flags & 0x1f).toString(16)}`, `0x${flagBits(s).toString(16)}`);
    if (f.length !== s.payloadLength) differs('tcp.len', f.length, s.payloadLength);
    if (!f.payload.equals(s.payload)) {
      const k = firstDifference(f.payload, s.payload);
      differs(`payload (${f.payload.length} vs ${s.payload.length} bytes captured, first difference at payload byte ${k})`, f.payload.subarray(k, k + 8).toString('hex'), s.payload.subarray(k, k + 8).toString('hex'));
    }
    payloadBytes += Math.min(f.payload.length, s.payload.length);
  }
  for (const f of theirs) if (!ours.some((s) => s.index + 1 === f.number)) out.push(`frame ${f.number}: tshark dissects TCP, zcprobe decodes no segment`);
  return { disagreements: out, payloadBytes };
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * The first-transmission stream of one direction and every overlap of a later frame with an
 * earlier one, from tshark's frames: a byte belongs to the first frame (in capture order) that
 * carried it; a later frame's bytes are compared with it, one record per run of bytes with the
 * same first frame.
 */
export function plainReassembly(frames: TsharkFrame[], dir: Direction): { bytes: Buffer; overlaps: OverlapRecord[] } {
  const mine = frames.filter((f) => f.src === dir.src && f.srcPort === dir.srcPort && f.dst === dir.dst && f.dstPort === dir.dstPort);
  const syn = mine.find((f) => f.flags & FLAG_BITS.syn);
  let base: number;
  if (syn) base = (syn.seq + 1) >>> 0;
  else if (mine.length) base = mine.reduce((b, f) => (((f.seq - b) | 0) < 0 ? f.seq : b), mine[0]!.seq);
  else return { bytes: Buffer.alloc(0), overlaps: [] };
  const startOf = (f: TsharkFrame) => ((f.flags & FLAG_BITS.syn ? f.seq + 1 : f.seq) - base) | 0;
  const extent = Math.max(0, ...mine.map((f) => startOf(f) + f.payload.length));
  const owner = new Int32Array(extent); // 0: nobody yet; else a frame number
  const bytes = Buffer.alloc(extent);
  const overlaps: OverlapRecord[] = [];
  for (const f of mine) {
    const start = startOf(f);
    let run: (OverlapRecord & { end: number }) | null = null;
    const close = () => {
      if (!run) return;
      const { end: _end, ...rec } = run;
      overlaps.push(rec.identical
        ? { firstFrame: rec.firstFrame, againFrame: rec.againFrame, seqStart: rec.seqStart, seqEnd: rec.seqEnd, identical: true }
        : rec);
      run = null;
    };
    for (let k = 0; k < f.payload.length; k++) {
      const o = start + k;
      if (o < 0) continue;
      const b = f.payload[k]!;
      if (owner[o] === 0) {
        close();
        owner[o] = f.number;
        bytes[o] = b;
        continue;
      }
      if (!run || run.firstFrame !== owner[o] || run.seqEnd !== o) {
        close();
        run = { firstFrame: owner[o]!, againFrame: f.number, seqStart: o, seqEnd: o, end: o, identical: true };
      }
      run.seqEnd = o + 1;
      if (bytes[o] !== b) {
        if (run.identical) {
          run.identical = false;
          run.firstDifferenceAt = o;
          run.differingBytes = 0;
        }
        run.differingBytes!++;
      }
    }
    close();
  }
  let contiguous = 0;
  while (contiguous < extent && owner[contiguous] !== 0) contiguous++;
  return { bytes: bytes.subarray(0, contiguous), overlaps };
}

/** reassembly.ts's records in the same shape (its packet indices are 0-based). */
export function overlapRecords(rs: Retransmission[]): OverlapRecord[] {
  return rs.map((r) => ({
    firstFrame: r.firstPacket + 1, againFrame: r.againPacket + 1, seqStart: r.seqStart, seqEnd: r.seqEnd, identical: r.identical,
    ...(r.identical ? {} : { firstDifferenceAt: r.firstDifferenceAt, differingBytes: r.differingBytes }),
  }));
}

const describe = (r: OverlapRecord) =>
  `frame ${r.againFrame} over frame ${r.firstFrame} at [${r.seqStart}, ${r.seqEnd})${r.identical ? ' identical' : `: ${r.differingBytes} bytes differ from ${r.firstDifferenceAt}`}`;

/** Disagreements between two lists of overlaps, each naming the retransmitting frame. */
export function compareOverlaps(label: string, expected: OverlapRecord[], got: OverlapRecord[]): string[] {
  const key = (r: OverlapRecord) =>
    JSON.stringify([r.againFrame, r.seqStart, r.firstFrame, r.seqEnd, r.identical, r.firstDifferenceAt, r.differingBytes]);
  const have = new Set(got.map(key));
  const want = new Set(expected.map(key));
  return [
    ...expected.filter((r) => !have.has(key(r))).map((r) => `frame ${r.againFrame}: tshark-based reassembly has ${describe(r)}; ${label} does not`),
    ...got.filter((r) => !want.has(key(r))).map((r) => `frame ${r.againFrame}: ${label} has ${describe(r)}; the tshark-based reassembly does not`),
  ];
}

function compareBytes(label: string, expected: Buffer, got: Buffer, frameAt: (offset: number) => number | undefined): string[] {
  if (expected.equals(got)) return [];
  const k = firstDifference(expected, got);
  const frame = frameAt(k);
  const where = frame === undefined ? `offset ${k}` : `frame ${frame} (stream offset ${k})`;
  return [`${where}: ${label}: ${expected.length} bytes expected, ${got.length} got, first difference at offset ${k}`];
}

/**
 * Everything above for the capture `file` (its bytes `pcap`, classic format) and the
 * sender → receiver direction `dir`. `used`, when given, is the stream a verdict was decided
 * on (e.g. WireObservation.stream); its frame numbers must be this file's too.
 */
export function crossCheckWithTshark(file: string, pcap: Buffer, dir: Direction, used?: ReassembledStream): OracleResult {
  const theirs = tsharkFrames(file);
  const ours = decodePcap(pcap).segments;
  const frames = compareFrames(ours, theirs);
  const plain = plainReassembly(theirs, dir);
  const stream = reassemble(ours, dir);
  // Which frame first carried a stream offset, for naming it in a disagreement.
  const frameAt = (offset: number): number | undefined => {
    const base = stream.sawSyn ? stream.isn! + 1 : stream.isn ?? 0;
    // stream offset of a segment's first byte (32-bit sequence arithmetic)
    const offsetOf = (s: TcpSegment) => (s.seq - base) | 0;
    const carries = (s: TcpSegment) => offsetOf(s) <= offset && offsetOf(s) + s.payloadLength > offset;
    const f = ours.find((s) => s.src === dir.src && s.srcPort === dir.srcPort && carries(s));
    return f && f.index + 1;
  };
  const disagreements = [...frames.disagreements];
  disagreements.push(...compareBytes('first-transmission stream, zcprobe vs tshark frames', plain.bytes, stream.bytes, frameAt));
  disagreements.push(...compareOverlaps('reassembly.ts', plain.overlaps, overlapRecords(stream.retransmissions)));
  if (used) {
    disagreements.push(...compareBytes('stream the verdict used vs tshark frames', plain.bytes, used.bytes, frameAt));
    disagreements.push(...compareOverlaps('the verdict\'s stream', plain.overlaps, overlapRecords(used.retransmissions)));
  }
  const follow = tsharkFollow(file);
  const client = `${dir.src.includes(':') ? `[${dir.src}]` : dir.src}:${dir.srcPort}`; // tshark brackets IPv6
  if (follow.client !== client) disagreements.push(`tshark's Follow TCP Stream has client ${follow.client}, expected ${client}`);
  // Follow TCP Stream shows the bytes past a gap too; compare it whole only without gaps.
  const followed = stream.gaps.length ? follow.clientBytes.subarray(0, stream.bytes.length) : follow.clientBytes;
  disagreements.push(...compareBytes('Follow TCP Stream vs zcprobe', followed, stream.bytes, frameAt));
  const flagged = new Set(theirs.filter((f) => f.analysis.some((a) => a !== 'lost_segment')).map((f) => f.number));
  for (const r of stream.retransmissions) {
    if (!flagged.has(r.againPacket + 1)) disagreements.push(`frame ${r.againPacket + 1}: zcprobe counts a retransmission, tshark's TCP analysis flags none`);
  }
  return {
    frames: Math.min(ours.length, theirs.length),
    payloadBytes: frames.payloadBytes,
    streamBytes: Math.min(plain.bytes.length, stream.bytes.length),
    retransmissions: stream.retransmissions.length,
    conflicts: stream.conflicts.length,
    disagreements,
  };
}
