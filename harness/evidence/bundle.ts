// The evidence bundle of a non-clean case, captures/<run-id>/<case-id>/: case.pcapng (the case's packets, comments on the frames
// that prove the verdict), case.json, and hexdiff.txt (I/W/R around the first mismatch, with the display filter). docs/wireshark.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pcapToPcapng } from './pcapng.ts';
import type { EvidencePaths, HexDiff, WiresharkPointers } from '../verdict/evidence-refs.ts';
import { markFrames, type MarkInput } from './wireshark.ts';

export type { EvidencePaths, HexDiff };


const WINDOW = 64;

function hex(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + Math.min(from, bytes.length), Math.max(0, Math.min(to, bytes.length) - Math.min(from, bytes.length))).toString('hex');
}

/** 64 bytes of each stream starting a little before `first` (16-byte aligned). */
export function hexDiff(first: number, intended: Uint8Array, wire: Uint8Array | null, received: Uint8Array, mutated?: Uint8Array): HexDiff {
  const offset = Math.max(0, Math.floor((first - 16) / 16) * 16);
  return {
    offset,
    intended: hex(intended, offset, offset + WINDOW),
    wire: wire ? hex(wire, offset, offset + WINDOW) : null,
    received: hex(received, offset, offset + WINDOW),
    ...(mutated ? { mutated: hex(mutated, offset, offset + WINDOW) } : {}),
  };
}

/** Text rendering: 16 bytes per row, one row per stream (M: the source after the mutation),
 * `^^` under bytes where W or R differ from I. */
export function formatHexDiff(d: HexDiff): string {
  const rows: string[] = [];
  const bytesOf = (h: string | null) => (h ? (h.match(/../g) ?? []) : []);
  const I = bytesOf(d.intended);
  const W = bytesOf(d.wire);
  const R = bytesOf(d.received);
  const M = d.mutated !== undefined ? bytesOf(d.mutated) : null;
  for (let row = 0; row < WINDOW; row += 16) {
    const off = (d.offset + row).toString(16).padStart(8, '0');
    const line = (label: string, b: string[]) => `${off} ${label} ${b.slice(row, row + 16).map((x) => x ?? '  ').join(' ')}`;
    rows.push(line('I', I));
    if (M) rows.push(line('M', M));
    if (d.wire !== null) rows.push(line('W', W));
    rows.push(line('R', R));
    const marks = I.slice(row, row + 16).map((x, i) => (W[row + i] !== undefined && W[row + i] !== x) || (R[row + i] !== undefined && R[row + i] !== x) ? '^^' : '  ');
    rows.push(`${' '.repeat(11)}${marks.join(' ')}`.trimEnd());
  }
  return rows.join('\n') + '\n';
}

/** What the pcapng's section comment says about the case (a CaseReport has these fields). */
export interface CaseSummary {
  id: string;
  kernel: string;
  method: string;
  size: number;
  mutation: string;
  mutationRange: string;
  safeguard: string;
  receiverDelayMs: number;
  transport: string;
  family: number;
  verdict: string;
  reasons: string[];
}

export interface WiresharkEvidence {
  pointers: WiresharkPointers | null;
  pcapng: Buffer;
}

/** The frames that prove the verdict, their comments in a pcapng, and the filter showing them. The frames are found in
 * `mark.pcap`; the pcapng holds `records` (default the same), e.g. a copy cut to the proving frames with the same numbering. */
export function wiresharkEvidence(
  c: CaseSummary, mark: MarkInput & { iface?: string; application?: string; patternNote?: string }, records: Buffer = mark.pcap,
): WiresharkEvidence {
  const { comments, pointers } = markFrames(mark);
  const sectionComments = [
    `zcprobe case ${c.id}: ${c.method}, ${c.size} bytes, mutation ${c.mutation} (${c.mutationRange}), safeguard ${c.safeguard}, receiver delay ${c.receiverDelayMs} ms, ${c.transport} IPv${c.family}, kernel ${c.kernel}`,
    `verdict: ${c.verdict}${c.reasons.length ? ` (${c.reasons.join('; ')})` : ''}`,
    pointers ? `Wireshark display filter for the frames that prove it: ${pointers.filter}` : 'no single frame proves this verdict (see case.json)',
    // serve: the body follows an HTTP header, so the pattern is told in body offsets
    mark.patternNote
      ?? 'stream offset = relative tcp.seq - 1; intended byte at offset o: o % 251 + 1; the mutation writes that value XOR 0xff',
  ];
  const frameComments = new Map([...comments].map(([frame, texts]) => [frame - 1, texts]));
  const application = mark.application ?? 'zcprobe';
  const pcapng = pcapToPcapng(records, { sectionComments, os: `Linux ${c.kernel}`, application, interfaceName: mark.iface, frameComments });
  return { pointers, pcapng };
}


/** hexdiff.txt's trailer: the filter and what each selected frame is. */
export function formatWiresharkHint(p: WiresharkPointers): string {
  const what: string[] = [];
  if (p.firstMutatedFrame !== undefined) what.push(`frame ${p.firstMutatedFrame}: first frame carrying bytes that differ from I`);
  p.conflictFrames?.forEach((f, i) => what.push(`frame ${f}: retransmission whose bytes differ from their first transmission, frame ${p.conflictFirstFrames?.[i]}`));
  if (p.receiverDiffFrame !== undefined) what.push(`frame ${p.receiverDiffFrame}: the wire carried I where the receiver first read other bytes`);
  return `\nWireshark (open case.pcapng, paste into the display filter bar; each frame's comment says why):\n  ${p.filter}\n${what.map((w) => `  ${w}\n`).join('')}`;
}

/** One packet file per bundle: case.pcapng holds the records exactly as captured (or cut, as case.json's evidencePcap says)
 * plus the comments, and Wireshark, tshark and tcpdump read it, so a classic case.pcap beside it would only double the disk. */
export function writeEvidence(dir: string, caseJson: unknown, diff: HexDiff, wireshark?: WiresharkEvidence): EvidencePaths {
  mkdirSync(dir, { recursive: true });
  const packets = wireshark ? join(dir, 'case.pcapng') : null;
  const paths: EvidencePaths = { dir, pcap: packets, pcapng: packets, caseJson: join(dir, 'case.json'), hexDiff: join(dir, 'hexdiff.txt') };
  if (wireshark && packets) writeFileSync(packets, wireshark.pcapng);
  writeFileSync(paths.caseJson, JSON.stringify(caseJson, null, 2) + '\n');
  writeFileSync(paths.hexDiff, formatHexDiff(diff) + (wireshark?.pointers ? formatWiresharkHint(wireshark.pointers) : ''));
  return paths;
}
