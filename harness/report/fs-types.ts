// Data model of the report's filesystem section (rendered by filesystems.ts). Kept apart so
// types.ts can name it without importing the renderer.
import type { Verdict as CaseVerdict } from '../verdict/verdict.ts';

type Verdict = CaseVerdict | 'skipped';

export interface FsCell {
  fs: string;
  method: string;
  mutation: string;
  safeguard: string;
  cases: number;
  counts: Partial<Record<Verdict, number>>;
  verdict: Verdict;
  reasons: string[];
  counterexampleIds: string[];
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
