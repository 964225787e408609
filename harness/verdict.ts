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


/** Three streams: intended (I), wire (W, from the pcap) and received (R). */
export type Verdict = 'clean' | 'corrupted-on-wire' | 'corrupted-after-wire' | 'corrupted' | 'inconclusive';

export interface WireFacts {
  /** I vs the bytes that first crossed the wire, over the contiguous captured prefix */
  mismatch: Mismatch;
  /** the capture holds every byte of the stream (no gap, nothing cut by snaplen) */
  complete: boolean;
  /** retransmissions whose bytes differ from the first transmission */
  conflicts: number;
  droppedByKernel: number;
}

/**
 * clean: W = I and R = I. corrupted-on-wire: the wire carried bytes other than I (including a
 * retransmission that differs from the first transmission). corrupted-after-wire: W = I but
 * R ≠ I (the receiver's queued skbs still referenced the sender's pages). inconclusive: the
 * evidence is incomplete (`reasons` says why) and no mismatch proves corruption. Without a
 * capture (`wire` undefined) the verdict is two-way: clean or corrupted.
 */
export function decideVerdict(received: Mismatch, wire: WireFacts | undefined, reasons: string[]): { verdict: Verdict; reasons: string[] } {
  const why = [...reasons];
  if (!wire) return { verdict: why.length ? 'inconclusive' : isIdentical(received) ? 'clean' : 'corrupted', reasons: why };
  // Mutated bytes seen on the wire are proof even when part of the capture is missing.
  if (wire.mismatch.mismatchedBytes > 0 || wire.conflicts > 0) {
    if (wire.conflicts > 0) why.push(`${wire.conflicts} retransmission(s) carried bytes that differ from the first transmission`);
    return { verdict: 'corrupted-on-wire', reasons: why };
  }
  if (wire.droppedByKernel > 0) why.push(`tcpdump reported ${wire.droppedByKernel} packet(s) dropped by the kernel`);
  if (!wire.complete) why.push('the capture does not hold every byte of the stream (gap or snaplen)');
  if (why.length) return { verdict: 'inconclusive', reasons: why };
  return { verdict: isIdentical(received) ? 'clean' : 'corrupted-after-wire', reasons: why };
}

export function isCorrupted(v: Verdict): boolean {
  return v === 'corrupted' || v === 'corrupted-on-wire' || v === 'corrupted-after-wire';
}
