// A tun observation (model/claims/tun.ts) as a fixed fast-check sample: the rate of corrupted cases is recorded and compared with the
// baseline, then the first corrupted case is shrunk (evidence, replay command). Asserted is only the evidence's soundness: every case
// conclusive when none corrupted, a bundle with both captures when one did, and (lossy claims) that the link really dropped segments.
import type { ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import type { CaseReport } from '../../harness/verdict/case-report.ts';
import type { TunClaim } from '../../harness/model/claims/tun.ts';
import { CORRUPTED } from '../../harness/model/baselines.ts';
import { runClaimCases } from '../../harness/suites/claim-runner.ts';
import { describe } from './t-claims.ts';
import { observe } from './t-observe.ts';
import { coverage, seedFromEnv, type SessionHandle } from './t-session.ts';

export interface TunObservation {
  outcome: 'holds' | 'falsified';
  seed: number;
  cases: CaseReport[];
  failing?: CaseReport;
  path?: string;
}

/** "3 clean, 2 corrupted-on-retransmit" */
export function verdictCounts(cases: CaseReport[]): string {
  const n = new Map<string, number>();
  for (const c of cases) n.set(c.verdict, (n.get(c.verdict) ?? 0) + 1);
  return [...n].map(([v, k]) => `${k} ${v}`).join(', ');
}

export async function observeClaim(t: ExecutionContext, session: SessionHandle, claim: TunClaim, opts: { numRuns?: number } = {}): Promise<TunObservation> {
  const seed = seedFromEnv();
  // The whole sample runs (a rate, not a search), then the first corrupted case is shrunk.
  const numRuns = opts.numRuns ?? claim.numRuns;
  const out = await runClaimCases((p) => session.run(p), { ...claim, kind: 'observation' }, { seed, numRuns });
  const cases = out.cases;
  const inconclusive = cases.filter((c) => c.verdict === 'inconclusive');
  for (const c of inconclusive) t.log(`inconclusive case ${c.id}: ${c.reasons.join('; ')}`);
  if (out.outcome === 'error') {
    t.fail(`"${claim.statement}": the harness failed (seed ${seed}), which proves nothing: ${out.error?.stack ?? out.error}`);
    return { outcome: 'holds', seed, cases };
  }
  if (out.outcome === 'undecided') {
    t.fail(`"${claim.statement}": every case was inconclusive (seed ${seed}): this host could not tell`);
    return { outcome: 'holds', seed, cases };
  }
  const rate = out.rate!;
  const outcome = out.outcome === 'falsified' ? 'falsified' : 'holds';
  const changed = outcome === claim.expect ? '' : ` — recorded as ${claim.expect} when the claim was written`;
  const sampled = `${rate.seen} of ${rate.runs} sampled conclusive cases corrupted`;
  t.log(`"${claim.statement}": ${sampled} (${verdictCounts(cases)} incl. shrinking), seed ${seed}${changed}`);
  // compared with baselines/<series>-tun.json like every observation (a difference beyond chance is a finding)
  const tally = `${rate.seen} of ${rate.runs} conclusive cases corrupted${rate.inconclusive ? `, ${rate.inconclusive} inconclusive` : ''}`;
  observe(t, {
    id: claim.id, statement: claim.statement, event: CORRUPTED, seen: rate.seen, runs: rate.runs, transport: 'tun', detail: tally,
  });
  const drops = cases.reduce((a, c) => a + (c.link?.events.filter((e) => e.kind === 'drop').length ?? 0), 0);
  if (cases.some((c) => c.link?.config.loss !== undefined)) {
    t.true(drops > 0, 'the link injected losses into at least one case');
    t.log(`  the link dropped ${drops} data segment(s) over the run`);
  }
  if (!out.counterexample) {
    t.is(inconclusive.length, 0, 'a claim that held needs every case conclusive');
    t.log(`  ${coverage(session.stats)}`);
    return { outcome, seed, cases };
  }
  const { experiment, path, failing } = out.counterexample;
  t.truthy(failing.evidence, 'the shrunk counterexample has an evidence bundle');
  if (failing.link?.arrived) t.true(existsSync(failing.link.arrived.pcap ?? ''), 'the bundle holds what reached the receiver (arrived.pcap) next to the wire (case.pcap)');
  t.log(`  minimal case: ${describe(experiment)}${experiment.link ? ` link=${JSON.stringify(experiment.link)}` : ''} → ${failing.verdict}${failing.reasons.length ? ` (${failing.reasons.join('; ')})` : ''}; evidence ${failing.evidence?.dir}`);
  t.log(`  replay: npx zcprobe run --replay ${claim.id}:${seed}:${path}`);
  t.log(`  ${coverage(session.stats)}`);
  return { outcome, seed, cases, failing, path };
}
