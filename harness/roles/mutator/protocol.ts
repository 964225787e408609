// The line protocol between the harness and its mutator process (JSON, one object per line).
// The mutator is "another process" changing the sender's file: it opens the file itself (which a
// read lease makes the kernel hold back) and applies any file mutation (case/mutations).

export interface MutateRequest {
  id: string;
  /** the served file */
  path: string;
  /** where new files go (rename-replace, reflink snapshots); default: the file's directory */
  dir?: string;
  /** a file mutation as text (harness/model/mutation-spec.ts), e.g. "pwrite", "truncate:600000" */
  mutation: string;
  /** size of the case: the message the mutation is resolved against */
  size: number;
  /** pwrite only the first half (the double-buffer scheme) */
  firstHalf?: boolean;
}

export type ToMutator = { type: 'mutate' } & MutateRequest;

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

export type FromMutator =
  | { type: 'ready'; pid: number }
  | ({ type: 'mutated'; id: string } & WriterRecord)
  | { type: 'fatal'; message: string };
