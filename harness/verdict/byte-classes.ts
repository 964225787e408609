// Where a stream differs from what was meant, as ranges of byte classes (old, new, zero, other, missing, extra), e.g.
// "old [0,600000) zero [600000,1048576)"; verdict.ts counts the bytes, this says where they are.

export const BYTE_CLASSES = ['old', 'new', 'zero', 'other', 'missing', 'extra'] as const;
export type ByteClass = (typeof BYTE_CLASSES)[number];

export interface ByteRange {
  start: number;
  end: number;
  class: ByteClass;
}

export interface ByteClasses {
  /** in stream order; adjacent bytes of one class form one range */
  ranges: ByteRange[];
  /** ranges left out after the first MAX_RANGES (the counts still cover them) */
  omittedRanges: number;
  /** bytes per class over the whole stream */
  bytes: Record<ByteClass, number>;
}

const MAX_RANGES = 32;
const BLOCK = 4096;

/** Classes of `observed` against `intended` and `after` (the source after the mutation, from the
 * mutation module's expectation). A byte equal to intended is old before anything else; zero
 * before new, so a truncated or punched range reads "zero". */
/** A stream of which nothing arrived: `size` missing bytes. */
export function nothingArrived(size: number): ByteClasses {
  const bytes = Object.fromEntries(BYTE_CLASSES.map((c) => [c, 0])) as Record<ByteClass, number>;
  bytes.missing = size;
  return { ranges: size > 0 ? [{ start: 0, end: size, class: 'missing' }] : [], omittedRanges: 0, bytes };
}

export function classifyBytes(intended: Uint8Array, observed: Uint8Array, after: Uint8Array, maxRanges = MAX_RANGES): ByteClasses {
  const out: ByteClasses = { ranges: [], omittedRanges: 0, bytes: { old: 0, new: 0, zero: 0, other: 0, missing: 0, extra: 0 } };
  let cur: ByteRange | null = null;
  const flush = () => {
    if (!cur) return;
    if (out.ranges.length < maxRanges) out.ranges.push(cur);
    else out.omittedRanges++;
  };
  const add = (cls: ByteClass, start: number, end: number) => {
    out.bytes[cls] += end - start;
    if (cur && cur.class === cls && cur.end === start) cur.end = end;
    else {
      flush();
      cur = { start, end, class: cls };
    }
  };
  const n = Math.min(intended.length, observed.length);
  for (let base = 0; base < n; base += BLOCK) {
    const end = Math.min(n, base + BLOCK);
    if (Buffer.compare(view(intended, base, end), view(observed, base, end)) === 0) {
      add('old', base, end);
      continue;
    }
    for (let i = base; i < end; i++) {
      const o = observed[i]!;
      add(o === intended[i] ? 'old' : o === 0 ? 'zero' : i < after.length && o === after[i] ? 'new' : 'other', i, i + 1);
    }
  }
  if (observed.length < intended.length) add('missing', observed.length, intended.length);
  if (observed.length > intended.length) add('extra', intended.length, observed.length);
  flush();
  return out;
}

function view(a: Uint8Array, start: number, end: number): Buffer {
  return Buffer.from(a.buffer, a.byteOffset + start, end - start);
}

/** "old [0,600000) zero [600000,1048576)"; "(+3 more ranges)" when some were left out. */
export function formatClasses(c: ByteClasses, limit = 6): string {
  const shown = c.ranges.slice(0, limit).map((r) => `${r.class} [${r.start},${r.end})`);
  const more = c.ranges.length - shown.length + c.omittedRanges;
  return shown.join(' ') + (more > 0 ? ` (+${more} more ranges)` : '');
}
