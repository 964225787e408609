// What a remote receiver read, sent back compactly: runs of B, zero and raw bytes against the patterns (the rest is A), rebuilt
// on the sender and checked against the agent's SHA-256; all raw when that is shorter. Bounded by the case's size + 64 KiB.
import { createHash } from 'node:crypto';
import { patternA, patternB } from '../../model/patterns.ts';

/** [start, end, kind]: B = the mutation pattern, Z = zero, R = raw bytes from the attachment */
export type Run = [number, number, 'B' | 'Z' | 'R'];

export interface ReceivedSummary {
  bytes: number;
  sha256: string;
  encoding: 'runs' | 'raw';
  runs: Run[];
  /** bytes of the attachment this summary uses */
  rawLength: number;
}

export const MAX_RUNS = 65536;
const BLOCK = 4096;

function kindAt(data: Buffer, a: Buffer, b: Buffer, i: number): 'A' | 'B' | 'Z' | 'R' {
  const v = data[i];
  if (v === a[i]) return 'A';
  if (v === b[i]) return 'B';
  return v === 0 ? 'Z' : 'R';
}

export function summarizeReceived(data: Buffer): { summary: ReceivedSummary; raw: Buffer } {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const a = patternA(data.length);
  const b = patternB(data.length);
  const runs: Run[] = [];
  const raw: Buffer[] = [];
  let rawLength = 0;
  let open: Run | null = null;
  const close = (): void => {
    if (open) runs.push(open);
    open = null;
  };
  for (let base = 0; base < data.length && runs.length <= MAX_RUNS; base += BLOCK) {
    const end = Math.min(data.length, base + BLOCK);
    // Whole blocks equal to A are skipped with one memcmp; only differing blocks are classified.
    if (data.compare(a, base, end, base, end) === 0) {
      close();
      continue;
    }
    for (let i = base; i < end; i++) {
      const k = kindAt(data, a, b, i);
      if (k === 'A') {
        close();
        continue;
      }
      if (open && open[2] === k && open[1] === i) open[1] = i + 1;
      else {
        close();
        open = [i, i + 1, k];
      }
      if (k === 'R') rawLength++;
    }
  }
  close();
  if (runs.length > MAX_RUNS) return { summary: { bytes: data.length, sha256, encoding: 'raw', runs: [], rawLength: data.length }, raw: data };
  for (const [s, e, k] of runs) if (k === 'R') raw.push(data.subarray(s, e));
  return { summary: { bytes: data.length, sha256, encoding: 'runs', runs, rawLength }, raw: Buffer.concat(raw, rawLength) };
}

/** The exact bytes a summary describes; throws if they do not match its SHA-256 or the runs
 * do not fit (a malformed summary must never turn into plausible bytes). */
export function rebuildReceived(s: ReceivedSummary, raw: Buffer): Buffer {
  if (raw.length !== s.rawLength) throw new Error(`received summary: ${raw.length} raw bytes attached, ${s.rawLength} announced`);
  let data: Buffer;
  if (s.encoding === 'raw') {
    data = Buffer.from(raw);
  } else {
    data = Buffer.from(patternA(s.bytes));
    const b = patternB(s.bytes);
    let used = 0;
    let last = 0;
    for (const [start, end, kind] of s.runs) {
      if (!(Number.isInteger(start) && Number.isInteger(end) && start >= last && end > start && end <= s.bytes)) throw new Error(`received summary: run [${start}, ${end}) out of order or range`);
      last = end;
      if (kind === 'B') b.copy(data, start, start, end);
      else if (kind === 'Z') data.fill(0, start, end);
      else if (kind === 'R') {
        if (used + end - start > raw.length) throw new Error('received summary: runs need more raw bytes than attached');
        raw.copy(data, start, used, used + end - start);
        used += end - start;
      } else throw new Error(`received summary: unknown run kind ${JSON.stringify(kind)}`);
    }
  }
  const sha = createHash('sha256').update(data).digest('hex');
  if (sha !== s.sha256) throw new Error(`received bytes rebuilt from the agent's summary do not match its SHA-256 (${sha.slice(0, 16)}… vs ${s.sha256.slice(0, 16)}…)`);
  return data;
}
