// Which non-clean cases of a suite run keep a full evidence bundle: the first of each cell and verdict; the rest keep
// case.json, hexdiff.txt and a case.pcapng cut to the frames that prove the verdict (docs/wireshark.md, "Evidence bundles").
import type { CaseReport } from '../verdict/case-report.ts';

export type BundleChoice = { full: true } | { full: false; fullBundleCase: string };

/** One per run: remembers the case that got the full bundle of each cell and kind of verdict. */
export class BundlePolicy {
  private readonly firstOf = new Map<string, string>();

  decide(r: Pick<CaseReport, 'id' | 'method' | 'safeguard' | 'transport' | 'fs' | 'mutation' | 'verdict'>): BundleChoice {
    const key = JSON.stringify([r.method, r.safeguard, r.transport, r.fs, r.mutation, r.verdict]);
    const first = this.firstOf.get(key);
    if (first === undefined) {
      this.firstOf.set(key, r.id);
      return { full: true };
    }
    return { full: false, fullBundleCase: first };
  }
}
