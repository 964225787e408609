// The line protocol between the harness and its mutator process (JSON, one object per line).
// The mutator is "another process" changing the sender's file: it opens the file itself (which a
// read lease makes the kernel hold back) and applies any file mutation (harness/case/mutations).
import type { WriterRecord } from '../../case/mutations/types.ts';

export type { WriterRecord };

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

export type FromMutator =
  | { type: 'ready'; pid: number }
  | ({ type: 'mutated'; id: string } & WriterRecord)
  | { type: 'fatal'; message: string };
