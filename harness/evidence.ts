// The evidence bundle of a non-clean case: captures/<run-id>/<case-id>/ with the connection's
// packets (case.pcap), the case as JSON (case.json) and a hex diff I/W/R around the first
// mismatch (hexdiff.txt).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HexDiff {
  offset: number;
  intended: string;
  wire: string | null;
  received: string;
}

const WINDOW = 64;

function hex(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + Math.min(from, bytes.length), Math.max(0, Math.min(to, bytes.length) - Math.min(from, bytes.length))).toString('hex');
}

/** 64 bytes of each stream starting a little before `first` (16-byte aligned). */
export function hexDiff(first: number, intended: Uint8Array, wire: Uint8Array | null, received: Uint8Array): HexDiff {
  const offset = Math.max(0, Math.floor((first - 16) / 16) * 16);
  return {
    offset,
    intended: hex(intended, offset, offset + WINDOW),
    wire: wire ? hex(wire, offset, offset + WINDOW) : null,
    received: hex(received, offset, offset + WINDOW),
  };
}

/** Text rendering: 16 bytes per row, one row per stream, `^^` under differing bytes. */
export function formatHexDiff(d: HexDiff): string {
  const rows: string[] = [];
  const bytesOf = (h: string | null) => (h ? (h.match(/../g) ?? []) : []);
  const I = bytesOf(d.intended);
  const W = bytesOf(d.wire);
  const R = bytesOf(d.received);
  for (let row = 0; row < WINDOW; row += 16) {
    const off = (d.offset + row).toString(16).padStart(8, '0');
    const line = (label: string, b: string[]) => `${off} ${label} ${b.slice(row, row + 16).map((x) => x ?? '  ').join(' ')}`;
    rows.push(line('I', I));
    if (d.wire !== null) rows.push(line('W', W));
    rows.push(line('R', R));
    const marks = I.slice(row, row + 16).map((x, i) => (W[row + i] !== undefined && W[row + i] !== x) || (R[row + i] !== undefined && R[row + i] !== x) ? '^^' : '  ');
    rows.push(`${' '.repeat(11)}${marks.join(' ')}`.trimEnd());
  }
  return rows.join('\n') + '\n';
}

export interface EvidencePaths {
  dir: string;
  pcap: string | null;
  /** remote runs: the agent's capture of what arrived (pcap is the sender's, what left) */
  arrivalPcap?: string;
  caseJson: string;
  hexDiff: string;
}

export function writeEvidence(dir: string, caseJson: unknown, diff: HexDiff, pcap: Buffer | null): EvidencePaths {
  mkdirSync(dir, { recursive: true });
  const paths: EvidencePaths = {
    dir,
    pcap: pcap ? join(dir, 'case.pcap') : null,
    caseJson: join(dir, 'case.json'),
    hexDiff: join(dir, 'hexdiff.txt'),
  };
  if (pcap && paths.pcap) writeFileSync(paths.pcap, pcap);
  writeFileSync(paths.caseJson, JSON.stringify(caseJson, null, 2) + '\n');
  writeFileSync(paths.hexDiff, formatHexDiff(diff));
  return paths;
}
