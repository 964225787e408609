// Compares what a stream carried with what the application meant to send, and classifies every
// differing byte: equal to the mutation pattern (the kernel read the buffer after it changed),
// zero (truncated file / unfilled page), or something else.

export interface Mismatch {
  /** bytes at offsets present in both streams that differ */
  mismatchedBytes: number;
  firstOffset: number | null;
  lastOffset: number | null;
  equalsMutation: number;
  zero: number;
  other: number;
  /** observed.length - intended.length (negative: bytes missing) */
  lengthDelta: number;
}

/** Differences between `observed` and `intended`; `mutated` is the source after the mutation. */
export function compareStreams(intended: Uint8Array, observed: Uint8Array, mutated: Uint8Array): Mismatch {
  const n = Math.min(intended.length, observed.length);
  const m: Mismatch = {
    mismatchedBytes: 0,
    firstOffset: null,
    lastOffset: null,
    equalsMutation: 0,
    zero: 0,
    other: 0,
    lengthDelta: observed.length - intended.length,
  };
  if (Buffer.compare(view(intended, n), view(observed, n)) === 0) return m;
  // Skip equal 4 KiB blocks with memcmp; classify bytes only inside differing blocks.
  const BLOCK = 4096;
  for (let base = 0; base < n; base += BLOCK) {
    const end = Math.min(n, base + BLOCK);
    if (Buffer.compare(view(intended, end, base), view(observed, end, base)) === 0) continue;
    // Local counters: property increments per byte cost several times more (4 MiB cases).
    let mismatched = 0, equalsMutation = 0, zero = 0, first = -1, last = -1;
    for (let i = base; i < end; i++) {
      const o = observed[i]!;
      if (o === intended[i]) continue;
      mismatched++;
      if (first < 0) first = i;
      last = i;
      if (i < mutated.length && o === mutated[i]) equalsMutation++;
      else if (o === 0) zero++;
    }
    if (!mismatched) continue;
    m.mismatchedBytes += mismatched;
    m.equalsMutation += equalsMutation;
    m.zero += zero;
    m.other += mismatched - equalsMutation - zero;
    if (m.firstOffset === null) m.firstOffset = first;
    m.lastOffset = last;
  }
  return m;
}

function view(a: Uint8Array, end: number, start = 0): Buffer {
  return Buffer.from(a.buffer, a.byteOffset + start, end - start);
}

export function isIdentical(m: Mismatch): boolean {
  return m.mismatchedBytes === 0 && m.lengthDelta === 0;
}


/** Three streams: intended (I), wire (W, from the pcap) and received (R). */
export type Verdict =
  | 'clean'
  | 'corrupted-on-wire'
  | 'corrupted-on-retransmit'
  | 'corrupted-after-wire'
  | 'corrupted'
  | 'inconclusive';

export const VERDICT_NAMES: readonly Verdict[] = ['clean', 'corrupted-on-wire', 'corrupted-on-retransmit', 'corrupted-after-wire', 'corrupted', 'inconclusive'];

/** A retransmission whose bytes differ from the first transmission: how its changed bytes compare
 * with I (classes against the mutated source, as for the streams). */
export interface ConflictFacts {
  /** the changed version of the overlap vs I */
  changed: Mismatch;
}

export interface WireFacts {
  /** I vs the bytes that first crossed the wire, over the contiguous captured prefix */
  mismatch: Mismatch;
  /** the capture holds every byte of the stream (no gap, nothing cut by snaplen) */
  complete: boolean;
  /** retransmissions whose bytes differ from the first transmission */
  conflicts: ConflictFacts[];
  droppedByKernel: number;
  /** problems that make the capture unusable as evidence either way: the stream start is not
   * anchored (no SYN, several ISNs), segments outside the window, overlaps that could not be
   * compared, truncated headers, a connection other than the receiver's, an unfinished
   * connection. Each is a sentence; any one makes the case inconclusive. */
  integrity: string[];
  /** what a fault-injecting link did to the connection (a dropped or reordered segment): facts
   * that change no verdict but belong next to it, one sentence each */
  injected?: string[];
}

/** Bytes that are neither I, the mutation nor zero cannot come from the experiment: a harness or
 * offset error (or memory the experiment never wrote). Never counted as a kernel finding. */
function foreignBytes(what: string, m: Mismatch): string | undefined {
  return m.other > 0 ? `${m.other} ${what} byte(s) are neither intended, mutation nor zero (first differing offset ${m.firstOffset}): a harness or offset error, not a finding` : undefined;
}

/**
 * The rules, in order (README "Reading a verdict" states them for users):
 * 1. A reason given by the caller (the safeguard did not reach its safe point, the receiver
 *    failed) → inconclusive whatever the bytes say: a timeout must never "falsify" a safeguard.
 * 2. Without a capture: R = I → clean, R ≠ I → corrupted (two-way), foreign bytes → inconclusive.
 * 3. Any integrity problem of the capture → inconclusive.
 * 4. Foreign bytes on the wire or in a differing retransmission → inconclusive.
 * 5. W ≠ I (anchored, mutation/zero bytes) → corrupted-on-wire, even if packets were dropped:
 *    bytes seen at their anchored offsets are proof. A differing retransmission while R ≠ I →
 *    corrupted-on-wire too (the changed bytes crossed the wire and the receiver has changed bytes).
 * 6. A differing retransmission while W = I and R = I → corrupted-on-retransmit: proof the kernel
 *    read the changed source, although this time the receiver kept the first copy.
 * 7. Drops or gaps → inconclusive (nothing else can be proven).
 * 8. Foreign bytes at the receiver → inconclusive; R ≠ I → corrupted-after-wire; else clean.
 */
export function decideVerdict(received: Mismatch, wire: WireFacts | undefined, reasons: string[]): { verdict: Verdict; reasons: string[] } {
  const d = decideFromFacts(received, wire, reasons);
  // Injected faults are context for every verdict (e.g. why a retransmission happened), never proof.
  return wire?.injected?.length ? { verdict: d.verdict, reasons: [...d.reasons, ...wire.injected] } : d;
}

function decideFromFacts(received: Mismatch, wire: WireFacts | undefined, reasons: string[]): { verdict: Verdict; reasons: string[] } {
  const why = [...reasons];
  const inconclusive = (...more: (string | undefined)[]) => ({ verdict: 'inconclusive' as const, reasons: [...why, ...more.filter((x): x is string => !!x)] });
  if (why.length) return inconclusive();
  if (!wire) {
    const foreign = foreignBytes('received', received);
    if (foreign) return inconclusive(foreign);
    return { verdict: isIdentical(received) ? 'clean' : 'corrupted', reasons: why };
  }
  if (wire.integrity.length) return inconclusive(...wire.integrity);
  const foreign = [foreignBytes('wire', wire.mismatch), ...wire.conflicts.map((c, i) => foreignBytes(`retransmission #${i + 1}`, c.changed))].filter(Boolean);
  if (foreign.length) return inconclusive(...foreign);
  const conflictNote = wire.conflicts.length ? `${wire.conflicts.length} retransmission(s) carried bytes that differ from the first transmission` : undefined;
  const incomplete = [
    wire.droppedByKernel > 0 ? `tcpdump reported ${wire.droppedByKernel} packet(s) dropped by the kernel` : undefined,
    wire.complete ? undefined : 'the capture does not hold every byte of the stream (gap or snaplen)',
  ].filter((x): x is string => !!x);
  if (wire.mismatch.mismatchedBytes > 0) return { verdict: 'corrupted-on-wire', reasons: [...why, ...(conflictNote ? [conflictNote] : []), ...incomplete] };
  if (conflictNote) {
    const verdict = isIdentical(received) ? 'corrupted-on-retransmit' : 'corrupted-on-wire';
    return { verdict, reasons: [...why, conflictNote, ...incomplete] };
  }
  if (incomplete.length) return inconclusive(...incomplete);
  const foreignR = foreignBytes('received', received);
  if (foreignR) return inconclusive(foreignR);
  return { verdict: isIdentical(received) ? 'clean' : 'corrupted-after-wire', reasons: why };
}

export function isCorrupted(v: Verdict): boolean {
  return v === 'corrupted' || v === 'corrupted-on-wire' || v === 'corrupted-on-retransmit' || v === 'corrupted-after-wire';
}
