// Runs a Claim (model/claims) as a fast-check property, without a test framework, for the property suites and `baseline write`.
// A counterexample counts only if conclusive, corrupted and its safeguard reached its safe point; a throw is a harness error.
// An observation is a rate: its whole sample runs and is counted, then its first corrupted case is shrunk (shrinks not counted).
import fc from 'fast-check';
import type { CaseReport } from '../verdict/case-report.ts';
import type { Claim, ExperimentPartial } from '../model/claims/index.ts';
import { isCorrupted } from '../verdict/verdict.ts';

/** held: no case proved corruption; falsified: a conclusive counterexample (shrunk); error: the
 * harness threw, which proves nothing; undecided: every case was inconclusive. */
export type ClaimOutcome = 'held' | 'falsified' | 'error' | 'undecided';

/** An observation's sample: cases proving corruption among the conclusive ones. */
export interface SampleRate {
  seen: number;
  /** conclusive cases of the sample (an inconclusive case is neither seen nor not seen) */
  runs: number;
  inconclusive: number;
}

export interface ClaimRun {
  claim: Claim;
  seed: number;
  /** every case run, sampled and shrinking ones */
  cases: CaseReport[];
  outcome: ClaimOutcome;
  /** observations: the fixed sample's count (shrinking runs are not in it) */
  rate?: SampleRate;
  /** outcome 'error': what the harness threw */
  error?: Error;
  counterexample?: { experiment: ExperimentPartial; path: string; shrinks: number; failing: CaseReport };
}

/** A corrupted case that may stand as a counterexample. */
export function provesCorruption(r: CaseReport, corrupted: (r: CaseReport) => boolean = (x) => isCorrupted(x.verdict)): boolean {
  return corrupted(r) && r.verdict !== 'inconclusive' && r.safeguardResult.reached;
}

export interface Sampled<P> {
  /** the fixed sample, in fast-check's run order (index = the replay path's first number) */
  sample: { partial: P; report: CaseReport }[];
  /** every case run: the sample, then the shrinking runs */
  cases: CaseReport[];
  error?: Error;
  /** the first proving case of the sample, shrunk; absent when none proved corruption */
  counterexample?: { experiment: P; path: string; shrinks: number; failing: CaseReport };
  /** the time limit cut the sample short */
  interrupted: boolean;
}

/** Runs `numRuns` cases of `arbitrary` (fewer if `timeLimitMs` runs out), all of them, then shrinks
 * from the first that `proves`: fast-check replays that run by its path and shrinks from there. If
 * the replay does not fail again (timing), the sampled case itself stands, unshrunk. */
export async function sampleThenShrink<P>(
  run: (partial: P) => Promise<CaseReport>,
  arbitrary: fc.Arbitrary<P>,
  opts: {
    seed: number;
    numRuns: number;
    proves: (r: CaseReport) => boolean;
    timeLimitMs?: number;
    onCase?: (partial: P, r: CaseReport) => void;
  },
): Promise<Sampled<P>> {
  const cases: CaseReport[] = [];
  const sample: { partial: P; report: CaseReport }[] = [];
  let error: Error | undefined;
  const runOne = async (partial: P): Promise<CaseReport> => {
    try {
      const r = await run(partial);
      cases.push(r);
      opts.onCase?.(partial, r);
      return r;
    } catch (e) {
      error ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  };
  const limit = opts.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: opts.timeLimitMs };
  const sampled = await fc.check(
    fc.asyncProperty(arbitrary, async (partial) => {
      sample.push({ partial, report: await runOne(partial) });
      return true;
    }),
    { numRuns: opts.numRuns, seed: opts.seed, ...limit },
  );
  const interrupted = sampled.interrupted;
  const first = sample.findIndex((s) => opts.proves(s.report));
  if (error || first < 0) return { sample, cases, interrupted, ...(error ? { error } : {}) };
  const tried: { key: string; report: CaseReport }[] = [];
  const shrunk = await fc.check(
    fc.asyncProperty(arbitrary, async (partial) => {
      const r = await runOne(partial);
      tried.push({ key: JSON.stringify(partial), report: r });
      return !opts.proves(r);
    }),
    { numRuns: 1, seed: opts.seed, path: String(first) },
  );
  if (error) return { sample, cases, interrupted, error };
  const own = sample[first]!;
  if (!shrunk.failed || !shrunk.counterexample) {
    const unshrunk = { experiment: own.partial, path: String(first), shrinks: 0, failing: own.report };
    return { sample, cases, interrupted, counterexample: unshrunk };
  }
  const [experiment] = shrunk.counterexample;
  const key = JSON.stringify(experiment);
  // The evidence is the run fast-check saw fail for the shrunk value (the last such run).
  const failing = [...tried].reverse().find((x) => x.key === key && opts.proves(x.report))?.report;
  if (!failing) {
    return { sample, cases, interrupted, error: new Error(`fast-check reported a counterexample (${key}) that no recorded case proves`) };
  }
  const path = shrunk.counterexamplePath ?? String(first);
  return { sample, cases, interrupted, counterexample: { experiment, path, shrinks: shrunk.numShrinks, failing } };
}

export async function runClaimCases(
  run: (partial: ExperimentPartial) => Promise<CaseReport>,
  claim: Claim,
  opts: { seed: number; numRuns?: number; corrupted?: (r: CaseReport) => boolean },
): Promise<ClaimRun> {
  const proves = (r: CaseReport) => provesCorruption(r, opts.corrupted);
  const numRuns = opts.numRuns ?? claim.numRuns;
  if (claim.kind === 'observation') return observeClaimCases(run, claim, { seed: opts.seed, numRuns, proves });
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
    { numRuns, seed: opts.seed, endOnFailure: claim.expect === 'holds' },
  );
  const base = { claim, seed: opts.seed, cases };
  if (error) return { ...base, outcome: 'error', error };
  if (!result.failed) return { ...base, outcome: cases.every((c) => c.verdict === 'inconclusive') ? 'undecided' : 'held' };
  const [experiment] = result.counterexample!;
  const key = JSON.stringify(experiment);
  // The evidence is the run fast-check saw fail for the shrunk value (the last such run).
  const failing = [...tried].reverse().find((x) => x.key === key && proves(x.report))?.report;
  if (!failing) return { ...base, outcome: 'error', error: new Error(`fast-check reported a counterexample (${key}) that no recorded case proves`) };
  const path = result.counterexamplePath ?? '';
  return { ...base, outcome: 'falsified', counterexample: { experiment, path, shrinks: result.numShrinks, failing } };
}

/** An observation: the whole sample, its rate, then the first proving case shrunk. */
async function observeClaimCases(
  run: (partial: ExperimentPartial) => Promise<CaseReport>,
  claim: Claim,
  opts: { seed: number; numRuns: number; proves: (r: CaseReport) => boolean },
): Promise<ClaimRun> {
  const s = await sampleThenShrink(run, claim.experiments, opts);
  const inconclusive = s.sample.filter((x) => x.report.verdict === 'inconclusive').length;
  const rate = { seen: s.sample.filter((x) => opts.proves(x.report)).length, runs: s.sample.length - inconclusive, inconclusive };
  const base = { claim, seed: opts.seed, cases: s.cases, rate };
  if (s.error) return { ...base, outcome: 'error', error: s.error };
  if (rate.runs === 0) return { ...base, outcome: 'undecided' };
  if (!s.counterexample) return { ...base, outcome: 'held' };
  return { ...base, outcome: 'falsified', counterexample: s.counterexample };
}
