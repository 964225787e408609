// Which frames of a case's capture prove its verdict, a comment for each, and the display filter that shows exactly those.
// Frame numbers are the case capture's own (1-based, as Wireshark shows them; case.pcap and case.pcapng hold the same records).
import { decodePcap, type TcpSegment } from '../capture/pcap.ts';
import { reassemble } from '../capture/reassembly.ts';
import type { WiresharkPointers } from '../verdict/evidence-refs.ts';

export type { WiresharkPointers };


/** A comment for one frame from elsewhere, e.g. a relay transport's "dropped"/"delayed by N ms". */
export interface FrameNote {
  /** 1-based frame number in the case capture */
  frame: number;
  text: string;
}

export interface MarkInput {
  /** the case capture (classic pcap), only this connection's packets */
  pcap: Buffer;
  /** sender → receiver */
  connection: { src: string; srcPort: number; dst: string; dstPort: number };
  intended: Uint8Array;
  mutated: Uint8Array;
  /** first offset where the receiving application read other bytes than intended, or null */
  receivedFirstOffset: number | null;
  notes?: FrameNote[];
}

export interface FrameMarks {
  /** comments by 1-based frame number */
  comments: Map<number, string[]>;
  pointers: WiresharkPointers | null;
}

/** A filter selecting exactly `frames`; `||` chains work in every Wireshark version. */
export function displayFilter(frames: readonly number[]): string {
  const sorted = [...new Set(frames)].sort((a, b) => a - b);
  if (!sorted.length) throw new RangeError('a display filter needs at least one frame');
  return sorted.map((f) => `frame.number == ${f}`).join(' || ');
}

/** "65536–113151" (inclusive; stream offset = Wireshark's relative tcp.seq − 1) */
const span = (a: number, bEx: number) => (bEx - a === 1 ? `${a}` : `${a}–${bEx - 1}`);

export function markFrames(input: MarkInput): FrameMarks {
  const { connection: dir, intended, mutated } = input;
  const segments = decodePcap(input.pcap).segments;
  const stream = reassemble(segments, dir);
  const base = stream.sawSyn ? (stream.isn! + 1) >>> 0 : (stream.isn ?? 0);
  const sameDir = (s: TcpSegment) => s.src === dir.src && s.srcPort === dir.srcPort && s.dst === dir.dst && s.dstPort === dir.dstPort;
  const data = segments.filter((s) => sameDir(s) && s.payloadLength > 0);
  const startOf = (s: TcpSegment) => ((s.flags.syn ? s.seq + 1 : s.seq) - base) | 0;
  // Capture order: the first frame covering an offset is the one whose bytes the stream holds.
  const firstCarrier = (offset: number) => data.find((s) => startOf(s) <= offset && offset < startOf(s) + s.payloadLength);

  const comments = new Map<number, string[]>();
  const note = (frame: number, text: string) => comments.set(frame, [...(comments.get(frame) ?? []), text]);
  const selected: number[] = [];
  const pointers: Omit<WiresharkPointers, 'filter' | 'frames'> = {};

  const n = Math.min(stream.bytes.length, intended.length);
  const wireFirst = firstDifferent(stream.bytes, intended, n);
  const mutatedFrame = wireFirst === null ? undefined : firstCarrier(wireFirst);
  if (mutatedFrame) {
    const frame = mutatedFrame.index + 1;
    const start = startOf(mutatedFrame);
    const end = Math.min(start + mutatedFrame.payload.length, intended.length);
    let first = -1;
    let last = -1;
    let count = 0;
    let asMutation = 0;
    for (let o = Math.max(0, start); o < end; o++) {
      const b = mutatedFrame.payload[o - start]!;
      if (b === intended[o]) continue;
      if (first < 0) first = o;
      last = o;
      count++;
      if (b === mutated[o]) asMutation++;
    }
    note(frame, `zcprobe: first frame carrying bytes that differ from the intended stream. It carries stream offsets ${span(start, start + mutatedFrame.payloadLength)}; ${count} of them differ (offsets ${span(first, last + 1)}), ${asMutation} equal the mutation pattern.`);
    pointers.firstMutatedFrame = frame;
    selected.push(frame);
  }

  const conflictFrames: number[] = [];
  const conflictFirstFrames: number[] = [];
  for (const c of stream.conflicts) {
    const again = c.againPacket + 1;
    const first = c.firstPacket + 1;
    note(again, `zcprobe: retransmission whose bytes differ from the first transmission (frame ${first}): stream offsets ${span(c.seqStart, c.seqEnd)}, ${c.differingBytes} bytes differ, the first at offset ${c.firstDifferenceAt}.`);
    note(first, `zcprobe: first transmission of stream offsets ${span(c.seqStart, c.seqEnd)}; frame ${again} retransmitted them with ${c.differingBytes} different bytes.`);
    conflictFrames.push(again);
    conflictFirstFrames.push(first);
    selected.push(again, first);
  }
  if (conflictFrames.length) Object.assign(pointers, { conflictFrames, conflictFirstFrames });

  const r = input.receivedFirstOffset;
  if (r !== null && r < n && stream.bytes[r] === intended[r]) {
    const carrier = firstCarrier(r);
    if (carrier) {
      const frame = carrier.index + 1;
      note(frame, `zcprobe: this frame carried stream offset ${r} with the intended byte (0x${intended[r]!.toString(16).padStart(2, '0')}), yet the receiving application read a different one there: at this offset the bytes changed after they crossed the wire.`);
      pointers.receiverDiffFrame = frame;
      selected.push(frame);
    }
  }

  for (const x of input.notes ?? []) note(x.frame, x.text);
  const frames = [...new Set(selected)].sort((a, b) => a - b);
  return { comments, pointers: frames.length ? { filter: displayFilter(frames), frames, ...pointers } : null };
}

function firstDifferent(a: Uint8Array, b: Uint8Array, n: number): number | null {
  const BLOCK = 4096;
  for (let base = 0; base < n; base += BLOCK) {
    const end = Math.min(n, base + BLOCK);
    if (Buffer.compare(a.subarray(base, end), b.subarray(base, end)) === 0) continue;
    for (let i = base; i < end; i++) if (a[i] !== b[i]) return i;
  }
  return null;
}
