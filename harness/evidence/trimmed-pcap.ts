// Size policy for a case's evidence pcap: up to wholeUpToBytes kept as captured; above, frames without sender payload and those
// within contextBytes of a focus range stay whole, the rest are cut after the TCP header (orig_len kept). docs/wireshark.md.
import type { ReassembledStream } from '../capture/reassembly.ts';
import { decodePcap } from '../capture/pcap.ts';
import type { ConnectionTuple } from '../capture/wire.ts';

export interface EvidencePcapPolicy {
  /** slices up to this many bytes are kept whole */
  wholeUpToBytes: number;
  /** stream bytes kept whole on each side of a focus range */
  contextBytes: number;
}

export const EVIDENCE_PCAP_POLICY: EvidencePcapPolicy = { wholeUpToBytes: 4 << 20, contextBytes: 256 << 10 };

/** A reduced bundle (bundle-policy.ts): whole only the frames carrying a focus offset (the frames that
 * prove the verdict), headers of every other frame, whatever the size. */
export const PROOF_ONLY_POLICY: EvidencePcapPolicy = { wholeUpToBytes: 0, contextBytes: 0 };

export interface Focus {
  /** stream offsets [start, end) of the sender→receiver direction */
  start: number;
  end: number;
  why: string;
}

export interface EvidencePcapRecord {
  kept: 'whole' | 'trimmed';
  policy: EvidencePcapPolicy;
  capturedBytes: number;
  keptBytes: number;
  /** only when trimmed */
  focus?: Focus[];
  fullFrames?: number;
  headerOnlyFrames?: number;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export function evidencePcap(
  slice: Buffer,
  conn: ConnectionTuple,
  stream: Pick<ReassembledStream, 'isn' | 'sawSyn'>,
  focus: Focus[],
  policy: EvidencePcapPolicy = EVIDENCE_PCAP_POLICY,
): { pcap: Buffer; record: EvidencePcapRecord } {
  if (slice.length <= policy.wholeUpToBytes) {
    return { pcap: slice, record: { kept: 'whole', policy, capturedBytes: slice.length, keptBytes: slice.length } };
  }
  const little = slice.readUInt32LE(0) === 0xa1b2c3d4 || slice.readUInt32LE(0) === 0xa1b23c4d;
  const base = stream.isn === null ? null : (stream.isn + (stream.sawSyn ? 1 : 0)) >>> 0;
  const windows = focus.map((f) => [f.start - policy.contextBytes, f.end + policy.contextBytes] as const);
  const bySender = new Map<number, { start: number | null; len: number; headerBytes: number; bare: boolean }>();
  for (const s of decodePcap(slice).segments) {
    const fromSender = s.src === conn.src && s.srcPort === conn.srcPort;
    if (!fromSender) continue;
    const dataStart = slice.byteOffset + s.fileOffset + RECORD_HEADER;
    bySender.set(s.fileOffset, {
      start: base === null ? null : (s.seq - base) | 0,
      len: s.payloadLength,
      headerBytes: s.payload.byteOffset - dataStart,
      bare: s.payloadLength === 0 || s.flags.syn || s.flags.fin || s.flags.rst,
    });
  }
  const parts: Buffer[] = [slice.subarray(0, GLOBAL_HEADER)];
  let full = 0;
  let headerOnly = 0;
  for (let off = GLOBAL_HEADER; off + RECORD_HEADER <= slice.length; ) {
    const incl = little ? slice.readUInt32LE(off + 8) : slice.readUInt32BE(off + 8);
    const end = off + RECORD_HEADER + incl;
    const seg = bySender.get(off);
    // Unanchored streams (no offsets) are kept whole: no frame can be shown to be away from a focus.
    const near = !seg || seg.bare || seg.start === null || windows.some(([a, b]) => seg.start! < b && seg.start! + seg.len > a);
    if (near || seg.headerBytes >= incl) {
      parts.push(slice.subarray(off, end));
      full++;
    } else {
      const rec = Buffer.from(slice.subarray(off, off + RECORD_HEADER + seg.headerBytes));
      if (little) rec.writeUInt32LE(seg.headerBytes, 8);
      else rec.writeUInt32BE(seg.headerBytes, 8);
      parts.push(rec);
      headerOnly++;
    }
    off = end;
  }
  const pcap = Buffer.concat(parts);
  return {
    pcap,
    record: { kept: 'trimmed', policy, capturedBytes: slice.length, keptBytes: pcap.length, focus, fullFrames: full, headerOnlyFrames: headerOnly },
  };
}

/** The ranges a reader of the evidence needs whole: where W and R first differ from I, and
 * every retransmission whose bytes differ from the first transmission. */
export function focusOf(wireFirst: number | null, receivedFirst: number | null, stream: Pick<ReassembledStream, 'conflicts'>): Focus[] {
  const out: Focus[] = [];
  if (wireFirst !== null) out.push({ start: wireFirst, end: wireFirst + 1, why: 'first byte on the wire that differs from the intended' });
  if (receivedFirst !== null) out.push({ start: receivedFirst, end: receivedFirst + 1, why: 'first byte the receiver read that differs from the intended' });
  for (const c of stream.conflicts) {
    out.push({ start: c.seqStart, end: c.seqEnd, why: `retransmission (packet ${c.againPacket}) differs from packet ${c.firstPacket}` });
  }
  return out;
}
