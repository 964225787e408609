// A mutation as text (what --mutation takes, what a case records) and as data; the kinds are listed in docs/filesystems.md.
// Numbers take size units (4KiB, 1MiB) and are stored as bytes: "truncate:600000". Pure: no addon.

export const MUTATION_KINDS = [
  'overwrite', 'pwrite', 'truncate', 'punch-hole', 'odirect-write', 'rename-replace', 'reflink-then-write', 'copy-over', 'copytruncate',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

/** The forms --mutation accepts, for help and error texts. */
export const MUTATION_FORMS = [
  'overwrite', 'pwrite', 'pwrite:OFFSET:LENGTH', 'truncate:LENGTH', 'ftruncate', 'punch-hole:OFFSET:LENGTH', 'odirect-write',
  'odirect-write:OFFSET:LENGTH', 'rename-replace', 'reflink-then-write', 'copy-over', 'copytruncate',
] as const;

/** O_DIRECT offsets and lengths are multiples of this (the largest logical block size in use). */
export const ODIRECT_ALIGN = 4096;

export interface MutationSpec {
  kind: MutationKind;
  /** pwrite, punch-hole, odirect-write: where the range starts (default 0) */
  offset?: number;
  /** pwrite, punch-hole, odirect-write: range length (default: the whole message); truncate: the new file length */
  length?: number;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1 << 20, mib: 1 << 20, g: 1 << 30, gib: 1 << 30 };

function bytes(text: string, what: string): number {
  const m = /^(\d+)([a-zA-Z]*)$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`${what} must be a byte count like 4096 or 4KiB, got "${text}"`);
  const v = Number(m[1]) * unit;
  if (!Number.isSafeInteger(v)) throw new Error(`${what} too large: "${text}"`);
  return v;
}

const RANGED: readonly MutationKind[] = ['pwrite', 'punch-hole', 'odirect-write'];

/** "truncate:600000" → { kind: 'truncate', length: 600000 }; throws naming the accepted forms. */
export function parseMutation(text: string): MutationSpec {
  const [head, ...args] = text.split(':');
  const usage = () => new Error(`"${text}" is not one of ${MUTATION_FORMS.join(', ')}`);
  if (head === 'ftruncate' && args.length === 0) return { kind: 'truncate', length: 0 };
  if (!(MUTATION_KINDS as readonly string[]).includes(head!)) throw usage();
  const kind = head as MutationKind;
  if (kind === 'truncate') {
    if (args.length !== 1) throw new Error('truncate needs the new length: truncate:LENGTH (ftruncate = truncate:0)');
    return { kind, length: bytes(args[0]!, 'truncate LENGTH') };
  }
  if (kind === 'punch-hole' && args.length !== 2) throw new Error('punch-hole needs a range: punch-hole:OFFSET:LENGTH');
  if (RANGED.includes(kind) && args.length === 2) {
    const spec = { kind, offset: bytes(args[0]!, `${kind} OFFSET`), length: bytes(args[1]!, `${kind} LENGTH`) };
    if (spec.length === 0) throw new Error(`${kind} LENGTH must be at least 1`);
    if (kind === 'odirect-write' && (spec.offset % ODIRECT_ALIGN || spec.length % ODIRECT_ALIGN))
      throw new Error(`odirect-write OFFSET and LENGTH must be multiples of ${ODIRECT_ALIGN} (O_DIRECT alignment)`);
    return spec;
  }
  if (args.length) throw usage();
  return { kind };
}

/** The canonical text of a spec (what a case records). */
export function formatMutation(s: MutationSpec): string {
  if (s.kind === 'truncate') return `truncate:${s.length}`;
  return s.offset !== undefined && s.length !== undefined ? `${s.kind}:${s.offset}:${s.length}` : s.kind;
}

/** A mutation resolved against a case: the concrete byte range it touches. */
export interface ResolvedMutation {
  kind: MutationKind;
  text: string;
  /** first byte the mutation touches (truncate: the new length) */
  offset: number;
  /** bytes from offset it touches; truncate: to the old end (size - L, or 0 when L ≥ size) */
  length: number;
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Resolves a spec for a message of `size` bytes; `firstHalf` limits a whole-file write to the
 * first half (the double-buffer scheme). Throws when the range does not fit the message. */
export function resolveMutation(text: string, size: number, firstHalf = false): ResolvedMutation {
  const s = parseMutation(text);
  const canonical = formatMutation(s);
  if (firstHalf && !(s.kind === 'overwrite' || (s.kind === 'pwrite' && s.offset === undefined)))
    throw new Error(`mutation range first-half applies to overwrite and pwrite only, not ${canonical}`);
  if (s.kind === 'truncate') return { kind: s.kind, text: canonical, offset: s.length!, length: Math.max(0, size - s.length!) };
  if (s.offset !== undefined && s.length !== undefined) {
    if (s.offset + s.length > (s.kind === 'odirect-write' ? alignUp(size, ODIRECT_ALIGN) : size))
      throw new Error(`${canonical}: the range ends at ${s.offset + s.length}, past the ${size}-byte message`);
    return { kind: s.kind, text: canonical, offset: s.offset, length: s.length };
  }
  // O_DIRECT writes whole aligned blocks: the last one may extend the file past the message.
  const length = s.kind === 'odirect-write' ? alignUp(size, ODIRECT_ALIGN) : firstHalf ? Math.floor(size / 2) : size;
  return { kind: s.kind, text: canonical, offset: 0, length };
}
