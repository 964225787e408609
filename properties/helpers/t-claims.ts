// Runs a Claim (harness/model/claims/index.ts) in a test and asserts on its outcome (harness/suites/claim-runner.ts).
// - A harness error fails the test with that error; a claim whose every case was inconclusive
//   fails saying so: neither may pass as "held" or "falsified".
// - universal claims (true on every Linux by design): 'holds' must hold with every case
//   conclusive; 'falsified' must be falsified by a conclusive, shrunk counterexample.
// - observations (kernel/transport-dependent): every case of the sample runs and the corrupted ones
//   are counted; the rate is recorded and compared with the baseline for this kernel series
//   (t-observe.ts); a difference beyond chance is a finding, not a failure.
// A counterexample is printed with seed, path, evidence and the replay command, and replayed
// once more for how reproducible it is.
import type { ExecutionContext } from 'ava';
import { runClaimCases, type ClaimRun } from '../../harness/suites/claim-runner.ts';
import type { CaseReport } from '../../harness/verdict/case-report.ts';
import type { Claim, ExperimentPartial } from '../../harness/model/claims/index.ts';
import { isCorrupted } from '../../harness/verdict/verdict.ts';
import { CORRUPTED } from '../../harness/model/baselines.ts';
import { observe } from './t-observe.ts';
import { coverage, seedFromEnv, type SessionHandle } from './t-session.ts';

export interface ClaimOutcome extends ClaimRun {
  replay?: CaseReport;
}

export async function runClaim(
  t: ExecutionContext,
  session: SessionHandle,
  claim: Claim,
  opts: { corrupted?: (r: CaseReport) => boolean; numRuns?: number; transport?: string } = {},
): Promise<ClaimOutcome> {
  const seed = seedFromEnv();
  const out: ClaimOutcome = await runClaimCases((p) => session.run(p), claim, { seed, numRuns: opts.numRuns, corrupted: opts.corrupted });
  const inconclusive = out.cases.filter((c) => c.verdict === 'inconclusive');
  for (const c of inconclusive) t.log(`inconclusive case ${c.id}: ${c.reasons.join('; ')}`);
  if (out.outcome === 'error') {
    t.fail(`claim "${claim.statement}": the harness failed (seed ${seed}), which proves nothing: ${out.error?.stack ?? out.error}`);
    return out;
  }
  if (out.outcome === 'undecided') {
    t.fail(`claim "${claim.statement}": every one of the ${out.cases.length} cases was inconclusive (seed ${seed}): this host could not tell — first reason: ${inconclusive[0]?.reasons.join('; ')}`);
    return out;
  }
  const ce = out.counterexample;
  const ceLine = ce ? ` — counterexample ${describe(ce.experiment)} → ${ce.failing.verdict} (seed ${seed}, path ${ce.path})` : '';
  if (claim.kind === 'universal') {
    if (claim.expect === 'holds') {
      t.is(out.outcome, 'held', `claim "${claim.statement}" was falsified${ceLine}`);
      t.is(inconclusive.length, 0, 'a safe claim needs every case conclusive');
    } else {
      t.is(out.outcome, 'falsified', `claim "${claim.statement}" held for ${out.cases.length} cases (seed ${seed}): expected a counterexample`);
    }
  } else {
    const rate = out.rate!;
    const also = rate.inconclusive ? `, ${rate.inconclusive} inconclusive` : '';
    const tally = `${rate.seen} of ${rate.runs} conclusive cases corrupted${also}`;
    observe(t, {
      id: claim.id,
      statement: claim.statement,
      event: CORRUPTED,
      seen: rate.seen,
      runs: rate.runs,
      transport: opts.transport ?? out.cases[0]?.transport ?? 'loopback',
      detail: ce ? `${tally}; minimal case: ${describe(ce.experiment)} → ${ce.failing.verdict}` : tally,
    });
  }
  if (out.outcome === 'held') {
    t.log(`"${claim.statement}": held for ${coverage(session.stats)} (seed ${seed})`);
    return out;
  }
  const failing = ce!.failing;
  // A corrupted socket stream always has its bundle; tee's second-pipe proof is in the report itself.
  if (isCorrupted(failing.verdict)) t.truthy(failing.evidence, 'the shrunk counterexample has an evidence bundle');
  // Near the boundary fast-check shrinks to, the minimal case may come out clean (timing): that
  // is reported, not hidden; the evidence is the run fast-check saw fail.
  out.replay = await session.run(ce!.experiment);
  const sampled = out.rate ? ` (${out.rate.seen} of the ${out.rate.runs} sampled conclusive cases corrupted)` : '';
  t.log(`"${claim.statement}": FALSIFIED after ${out.cases.length} cases${sampled}, shrunk ${ce!.shrinks}×`);
  t.log(`  minimal case: ${describe(ce!.experiment)} → ${failing.verdict}, received ${failing.received.mismatchedBytes}/${failing.size} bytes differ${failing.wire.capture === 'captured' ? `, wire ${failing.wire.mismatchedBytes}` : ''}${failing.reasons.length ? ` (${failing.reasons.join('; ')})` : ''}; evidence ${failing.evidence?.dir}`);
  t.log(`  replayed once more: ${out.replay.verdict}`);
  t.log(`  replay: npx zcprobe run --replay ${claim.id}:${seed}:${ce!.path}`);
  t.log(`  ${coverage(session.stats)}`);
  return out;
}

export function describe(e: ExperimentPartial): string {
  const parts = [`${e.method} size=${e.size}B`, `delay=${e.receiverDelayMs ?? 0}ms`];
  if (e.rcvbuf !== undefined) parts.push(`rcvbuf=${e.rcvbuf}`);
  if (e.sndbuf !== undefined) parts.push(`sndbuf=${e.sndbuf}`);
  if (e.pipeSize !== undefined) parts.push(`pipe=${e.pipeSize}`);
  if (e.mutationRange && e.mutationRange !== 'all') parts.push(`range=${e.mutationRange}`);
  if (e.mutation) parts.push(`mutation=${e.mutation}`);
  if (e.safeguard && e.safeguard !== 'none') parts.push(`safeguard=${e.safeguard}`);
  return parts.join(' ');
}
