// Claims about changing a file an already-returned sendfile/splice still delivers, one per mutation, as data: what is universal
// (checked in every case) and what is observed (printed, never asserted: it depends on kernel and filesystem). docs/filesystems.md.
// Replayable: `zcprobe run --replay fs-truncate:<seed>:<path> --fs ext4`.
import fc from 'fast-check';
import type { Experiment, Method } from '../experiment.ts';
import { ODIRECT_ALIGN, type MutationKind } from '../mutation-spec.ts';

type ExperimentPartial = Partial<Experiment> & Pick<Experiment, 'method' | 'size'>;

const KiB = 1024;
const MiB = 1024 * KiB;

/** Checks of one case:
 * - no-foreign: no received or wire byte is neither old, new nor zero (else the expectation is wrong)
 * - unchanged-outside: bytes outside the ranges the mutation changes arrive old
 * - old-everywhere: every byte arrives old (the sender's inode was not changed at all) */
export type CaseCheck = 'no-foreign' | 'unchanged-outside' | 'old-everywhere';

export interface FsClaim {
  id: string;
  mutation: MutationKind;
  /** the sentence whose truth per filesystem the cases observe */
  statement: string;
  /** must pass in every case, whatever the kernel does (a failure is a harness or model error) */
  universal: CaseCheck[];
  /** counted and printed: kernel- and filesystem-dependent */
  observed: CaseCheck[];
  experiments: fc.Arbitrary<ExperimentPartial>;
  numRuns: number;
}

interface Raw {
  method: Method;
  size: number;
  receiverDelayMs: number;
  a: number;
  b: number;
  near: boolean;
  unit: number;
  d: number;
}

/** Raw draws; each claim maps them to its mutation text (shrinks toward small sizes, offset 0, length 1). */
const raw: fc.Arbitrary<Raw> = fc.record({
  method: fc.constantFrom<Method>('sendfile', 'splice'),
  size: fc.oneof(fc.integer({ min: 1, max: 64 * KiB }), fc.integer({ min: 1, max: 2 * MiB })),
  receiverDelayMs: fc.integer({ min: 0, max: 100 }),
  a: fc.nat(),
  b: fc.nat(),
  // truncation lengths near 4 KiB pages and larger folio sizes: k·unit − 1, k·unit, k·unit + 1
  near: fc.boolean(),
  unit: fc.constantFrom(4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 2 * MiB),
  d: fc.integer({ min: -1, max: 1 }),
});

const range = (r: Raw) => {
  const offset = r.a % r.size;
  return { offset, length: 1 + (r.b % (r.size - offset)) };
};

const MUTATION_TEXT: Record<Exclude<MutationKind, 'overwrite'>, (r: Raw) => string> = {
  pwrite: (r) => `pwrite:${range(r).offset}:${range(r).length}`,
  truncate: (r) => {
    const max = r.size + 8 * KiB; // past the end too
    const l = r.near ? (r.unit * (r.a % (Math.floor(max / r.unit) + 1)) + r.d) : r.a % (max + 1);
    return `truncate:${Math.min(max, Math.max(0, l))}`;
  },
  'punch-hole': (r) => `punch-hole:${range(r).offset}:${range(r).length}`,
  'odirect-write': (r) => {
    const blocks = Math.ceil(r.size / ODIRECT_ALIGN);
    const first = r.a % blocks;
    return `odirect-write:${first * ODIRECT_ALIGN}:${(1 + (r.b % (blocks - first))) * ODIRECT_ALIGN}`;
  },
  'rename-replace': () => 'rename-replace',
  'reflink-then-write': () => 'reflink-then-write',
};

const STATEMENT: Record<keyof typeof MUTATION_TEXT, string> = {
  pwrite: 'pwrite() over part of the file right after sendfile/splice returns leaves what arrives unchanged',
  truncate: 'ftruncate() to any length right after sendfile/splice returns leaves what arrives unchanged',
  'punch-hole': 'punching a hole (FALLOC_FL_PUNCH_HOLE) right after sendfile/splice returns leaves what arrives unchanged',
  'odirect-write': 'an O_DIRECT write over the file right after sendfile/splice returns leaves what arrives unchanged',
  'rename-replace': 'write a new file, fsync, rename() it over the old name right after sendfile/splice returns: what arrives is unchanged',
  'reflink-then-write': 'a FICLONE snapshot, then pwrite() over the file right after sendfile/splice returns leaves what arrives unchanged',
};

export const FS_CLAIMS: Record<string, FsClaim> = Object.fromEntries(
  (Object.keys(MUTATION_TEXT) as (keyof typeof MUTATION_TEXT)[]).map((kind) => {
    const claim: FsClaim = {
      id: `fs-${kind}`,
      mutation: kind,
      statement: STATEMENT[kind],
      universal: kind === 'rename-replace' ? ['no-foreign', 'old-everywhere'] : ['no-foreign'],
      observed: kind === 'rename-replace' ? [] : ['unchanged-outside'],
      experiments: raw.map((r) => ({ method: r.method, size: r.size, receiverDelayMs: r.receiverDelayMs, mutation: MUTATION_TEXT[kind](r) as ExperimentPartial['mutation'] })),
      numRuns: 10,
    };
    return [claim.id, claim];
  }),
);
