// The line protocol between the harness and its mutator process (JSON, one object per line).
// The mutator is "another process" changing the sender's file: it opens the file for writing
// (which a read lease makes the kernel hold back) and then pwrites or truncates it.

export interface MutateRequest {
  id: string;
  path: string;
  mutation: 'pwrite' | 'ftruncate';
  /** size of the case: the mutator writes mutatedPattern(mutation, size) */
  size: number;
  /** pwrite only: bytes from offset 0 to change (first-half cases change fewer than size) */
  length: number;
}

export type ToMutator = { type: 'mutate' } & MutateRequest;

/** What the other process saw, epoch ms (performance.timeOrigin + now, comparable across processes). */
export interface WriterRecord {
  pid: number;
  mutation: MutateRequest['mutation'];
  /** when it called open(O_WRONLY) */
  openStartedAt: number;
  /** when open returned: a lease break in progress keeps it blocked in the kernel until then */
  openedAt: number;
  blockedMs: number;
  /** when the pwrite/ftruncate returned: the mutation is in the page cache from here on */
  mutatedAt: number;
  error?: string;
}

export type FromMutator =
  | { type: 'ready'; pid: number }
  | ({ type: 'mutated'; id: string } & WriterRecord)
  | { type: 'fatal'; message: string };
