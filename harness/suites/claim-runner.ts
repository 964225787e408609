// Runs a Claim (model/claims) as a fast-check property, without a test framework, for the property suites and `baseline write`.
// A counterexample counts only if conclusive, corrupted and its safeguard reached its safe point; a throw is a harness error.
import fc from 'fast-check';
import type { CaseReport } from '../verdict/case-report.ts';
import type { Claim, ExperimentPartial } from '../model/claims/index.ts';
import { isCorrupted } from '../verdict/verdict.ts';

/** held: no case proved corruption; falsified: a conclusive counterexample (shrunk); error: the
 * harness threw, which proves nothing; undecided: every case was inconclusive. */
export type ClaimOutcome = 'held' | 'falsified' | 'error' | 'undecided';

export interface ClaimRun {
  claim: Claim;
  seed: number;
  cases: CaseReport[];
  outcome: ClaimOutcome;
  /** outcome 'error': what the harness threw */
  error?: Error;
  counterexample?: { experiment: ExperimentPartial; path: string; shrinks: number; failing: CaseReport };
}

/** A corrupted case that may stand as a counterexample. */
export function provesCorruption(r: CaseReport, corrupted: (r: CaseReport) => boolean = (x) => isCorrupted(x.verdict)): boolean {
  return corrupted(r) && r.verdict !== 'inconclusive' && r.safeguardResult.reached;
}

export async function runClaimCases(
  run: (partial: ExperimentPartial) => Promise<CaseReport>,
  claim: Claim,
  opts: { seed: number; numRuns?: number; corrupted?: (r: CaseReport) => boolean },
): Promise<ClaimRun> {
  const proves = (r: CaseReport) => provesCorruption(r, opts.corrupted);
  const cases: CaseReport[] = [];
  const tried: { key: string; report: CaseReport }[] = [];
  let error: Error | undefined;
  const result = await fc.check(
    fc.asyncProperty(claim.experiments, async (partial) => {
      let r: CaseReport;
      try {
        r = await run(partial);
      } catch (e) {
        error ??= e instanceof Error ? e : new Error(String(e));
        throw e;
      }
      cases.push(r);
      tried.push({ key: JSON.stringify(partial), report: r });
      return !proves(r);
    }),
    { numRuns: opts.numRuns ?? claim.numRuns, seed: opts.seed, endOnFailure: claim.expect === 'holds' },
  );
  const base = { claim, seed: opts.seed, cases };
  if (error) return { ...base, outcome: 'error', error };
  if (!result.failed) return { ...base, outcome: cases.every((c) => c.verdict === 'inconclusive') ? 'undecided' : 'held' };
  const [experiment] = result.counterexample!;
  const key = JSON.stringify(experiment);
  // The evidence is the run fast-check saw fail for the shrunk value (the last such run).
  const failing = [...tried].reverse().find((x) => x.key === key && proves(x.report))?.report;
  if (!failing) return { ...base, outcome: 'error', error: new Error(`fast-check reported a counterexample (${key}) that no recorded case proves`) };
  return { ...base, outcome: 'falsified', counterexample: { experiment, path: result.counterexamplePath ?? '', shrinks: result.numShrinks, failing } };
}
