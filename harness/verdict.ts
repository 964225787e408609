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
    for (let i = base; i < end; i++) {
      const o = observed[i]!;
      if (o === intended[i]) continue;
      m.mismatchedBytes++;
      if (m.firstOffset === null) m.firstOffset = i;
      m.lastOffset = i;
      if (i < mutated.length && o === mutated[i]) m.equalsMutation++;
      else if (o === 0) m.zero++;
      else m.other++;
    }
  }
  return m;
}

function view(a: Uint8Array, end: number, start = 0): Buffer {
  return Buffer.from(a.buffer, a.byteOffset + start, end - start);
}

export function isIdentical(m: Mismatch): boolean {
  return m.mismatchedBytes === 0 && m.lengthDelta === 0;
}

/** Two-stream verdict (intended vs received), used when no capture runs. */
export type ReceivedVerdict = 'clean' | 'corrupted' | 'inconclusive';

export function receivedVerdict(received: Mismatch | null): ReceivedVerdict {
  if (!received) return 'inconclusive';
  return isIdentical(received) ? 'clean' : 'corrupted';
}
