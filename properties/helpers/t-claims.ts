// Runs a Claim (harness/claims.ts) as a fast-check property against the kernel.
// - expect 'holds': fc.assert-style; every case must be clean; reports cases and bytes covered.
// - expect 'falsified': the property "reuse is safe" must FAIL; the test asserts that fast-check
//   found a counterexample, prints the shrunk case with seed, path and the replay command, and
//   replays it once more for its evidence bundle.
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { CaseReport } from '../../harness/case-report.ts';
import type { Claim, ExperimentPartial } from '../../harness/claims.ts';
import { isCorrupted } from '../../harness/verdict.ts';
import { coverage, seedFromEnv, type SessionHandle } from './t-session.ts';

export interface ClaimOutcome {
  seed: number;
  cases: CaseReport[];
  counterexample?: { experiment: ExperimentPartial; path: string; shrinks: number; failing: CaseReport; replay: CaseReport };
}

/** Same as runClaim but with an extra check on every case (e.g. tee's second output). */
export async function runClaim(
  t: ExecutionContext,
  session: SessionHandle,
  claim: Claim,
  opts: { corrupted?: (r: CaseReport) => boolean; numRuns?: number } = {},
): Promise<ClaimOutcome> {
  const seed = seedFromEnv();
  const corrupted = opts.corrupted ?? ((r: CaseReport) => isCorrupted(r.verdict));
  const cases: CaseReport[] = [];
  const tried: { partial: ExperimentPartial; report: CaseReport }[] = [];
  const result = await fc.check(
    fc.asyncProperty(claim.experiments, async (partial) => {
      const r = await session.run(partial);
      cases.push(r);
      tried.push({ partial, report: r });
      return !corrupted(r);
    }),
    { numRuns: opts.numRuns ?? claim.numRuns, seed, endOnFailure: claim.expect === 'holds' },
  );
  const inconclusive = cases.filter((c) => c.verdict === 'inconclusive');
  for (const c of inconclusive) t.log(`inconclusive case ${c.id}: ${c.reasons.join('; ')}`);
  if (claim.expect === 'holds') {
    const error = result.errorInstance instanceof Error ? `; the case threw: ${result.errorInstance.message}` : '';
    const bad = result.failed ? ` — counterexample ${JSON.stringify(result.counterexample)} (seed ${seed}, path ${result.counterexamplePath})${error}` : '';
    t.false(result.failed, `claim "${claim.statement}" was falsified${bad}`);
    t.is(inconclusive.length, 0, 'a safe claim needs every case conclusive');
    t.log(`"${claim.statement}": holds for ${coverage(session.stats)} (seed ${seed})`);
    return { seed, cases };
  }
  t.true(result.failed, `claim "${claim.statement}" held for ${result.numRuns} cases (seed ${seed}): expected a counterexample`);
  if (!result.failed || !result.counterexample) return { seed, cases };
  const [experiment] = result.counterexample;
  const path = result.counterexamplePath ?? '';
  // The evidence is the run fast-check saw fail for the shrunk value (the last such run).
  const failing = [...tried].reverse().find((x) => JSON.stringify(x.partial) === JSON.stringify(experiment) && corrupted(x.report))!.report;
  // A corrupted socket stream always has its bundle; tee's second-pipe proof is in the report itself.
  if (isCorrupted(failing.verdict)) t.truthy(failing.evidence, 'the shrunk counterexample has an evidence bundle');
  // One more run of the minimal case says how reproducible it is; near the boundary fast-check
  // shrinks to, it may come out clean (timing), which is reported, not hidden.
  const replay = await session.run(experiment);
  t.log(`"${claim.statement}": FALSIFIED after ${cases.length} cases, shrunk ${result.numShrinks}×`);
  t.log(`  minimal case: ${describe(experiment)} → ${failing.verdict}, received ${failing.received.mismatchedBytes}/${failing.size} bytes differ${failing.wire.capture === 'captured' ? `, wire ${failing.wire.mismatchedBytes}` : ''}${failing.reasons.length ? ` (${failing.reasons.join('; ')})` : ''}; evidence ${failing.evidence?.dir}`);
  t.log(`  replayed once more: ${replay.verdict}`);
  t.log(`  replay: npx zcprobe run --replay ${claim.id}:${seed}:${path}`);
  t.log(`  ${coverage(session.stats)}`);
  return { seed, cases, counterexample: { experiment, path, shrinks: result.numShrinks, failing, replay } };
}

export function describe(e: ExperimentPartial): string {
  const parts = [`${e.method} size=${e.size}B`, `delay=${e.receiverDelayMs ?? 0}ms`];
  if (e.rcvbuf !== undefined) parts.push(`rcvbuf=${e.rcvbuf}`);
  if (e.sndbuf !== undefined) parts.push(`sndbuf=${e.sndbuf}`);
  if (e.mutation) parts.push(`mutation=${e.mutation}`);
  if (e.safeguard && e.safeguard !== 'none') parts.push(`safeguard=${e.safeguard}`);
  return parts.join(' ');
}
