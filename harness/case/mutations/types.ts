// A mutation module, one per kind (model/mutation-spec.ts): what the served name holds afterwards (the verdict's expectation),
// prepare before the send, apply after it, in the sender or in the mutator process that has only the path (lease cases).
import type { Source } from '../../model/patterns.ts';
import type { ResolvedMutation } from '../../model/mutation-spec.ts';

/** What a byte range holds after the mutation, relative to the intended bytes. */
export type ChangeKind = 'new' | 'zero';

export interface Expectation {
  /** bytes [0, size) of the served name after the mutation: the verdict's "mutated" stream */
  after: Uint8Array;
  /** the ranges the mutation changes, in order; everything else keeps the intended (old) bytes */
  changes: { start: number; end: number; to: ChangeKind }[];
  /** what the sender's own fd sees, when that differs from the name (rename-replace) */
  note?: string;
}

/** Where the mutation happens. The sender passes its source (its own read-write fd, mapping or
 * buffer); another process passes only the path and opens the file itself. */
export interface MutationTarget {
  path: string;
  /** directory for the new files some mutations make (rename-replace, reflink snapshots) */
  dir: string;
  /** the sender's source; absent in another process */
  source?: Source;
}

/** When each step happened, epoch ms (performance.timeOrigin + now: comparable across processes). */
export interface AppliedMutation {
  startedAt: number;
  /** when open() of the served file was called and returned (another process: a lease holds this
   * open back); equal to startedAt when the served file was not opened (own fd, rename) */
  openStartedAt: number;
  openedAt: number;
  /** when the served name's bytes changed (the last step returned) */
  mutatedAt: number;
  /** each step with its time, e.g. [{ what: 'rename', at }] */
  steps: { what: string; at: number }[];
}

export interface PreparedMutation {
  apply(): AppliedMutation;
  /** closes and removes what prepare made (always called, also when apply was not) */
  release(): void;
}

export interface MutationModule {
  /** 'memory': stores into the sender's buffer or mapping (the sender only); 'file': needs a path */
  target: 'memory' | 'file';
  expect(m: ResolvedMutation, size: number): Expectation;
  prepare(m: ResolvedMutation, size: number, target: MutationTarget): PreparedMutation;
  /** probes whether the filesystem holding `dir` can do this (O_DIRECT, FICLONE, punch hole):
   * null when it can, else the one-line reason */
  unsupportedIn?: (dir: string) => string | null;
}

/** What the other process saw, epoch ms (performance.timeOrigin + now, comparable across processes). */
export interface WriterRecord {
  pid: number;
  /** the canonical mutation text it applied */
  mutation: string;
  /** when it called open() on the served file (rename-replace opens only its new file: then
   * equal to when it began) */
  openStartedAt: number;
  /** when open returned: a lease break in progress keeps it blocked in the kernel until then */
  openedAt: number;
  blockedMs: number;
  /** when the last step returned: the mutation is in the page cache (or the name) from here on */
  mutatedAt: number;
  steps?: { what: string; at: number }[];
  error?: string;
}
