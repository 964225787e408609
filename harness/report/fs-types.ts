// Data model of the report's filesystem section (rendered by filesystems.ts). Kept apart so
// types.ts can name it without importing the renderer.
import type { Verdict as CaseVerdict } from '../verdict/verdict.ts';

type Verdict = CaseVerdict | 'skipped';

/** The verdict tally of a cell of cases, shared by the filesystem and real-server sections. */
export interface CellTally {
  cases: number;
  counts: Partial<Record<Verdict, number>>;
  verdict: Verdict;
  reasons: string[];
  counterexampleIds: string[];
}

export interface FsCell extends CellTally {
  fs: string;
  method: string;
  mutation: string;
  safeguard: string;
  /** what the receiver got where it was not the old bytes, e.g. "zero [600000,1048576)", with how
   * many cases showed it ("old" only: identical) */
  received: { shape: string; cases: number }[];
}

export interface FsFactsRow {
  fs: string;
  type: string;
  mountOptions: string;
  superOptions: string;
  blockSize: number;
}

export interface FilesystemSection {
  /** what each filesystem was: type, mount options, block size */
  facts: FsFactsRow[];
  cells: FsCell[];
}
