// Runs a tun claim whose outcome depends on the kernel (an "observation") as a fast-check property:
// whatever the kernel does is reported — held for N cases, or falsified with the shrunk case, its
// evidence and the replay command — and compared with the outcome recorded in the claim's data.
// What is asserted is the soundness of the evidence, never the kernel's answer: every case
// conclusive when the claim held, a bundle with both captures when it did not, and (lossy claims)
// that the link really injected losses.
import type { ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import type { CaseReport } from '../../harness/verdict/case-report.ts';
import type { ExperimentPartial } from '../../harness/model/claims/index.ts';
import type { TunClaim } from '../../harness/model/claims/tun.ts';
import { isCorrupted } from '../../harness/verdict/verdict.ts';
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
  const cases: CaseReport[] = [];
  const tried: { partial: ExperimentPartial; report: CaseReport }[] = [];
  const result = await fc.check(
    fc.asyncProperty(claim.experiments, async (partial) => {
      const r = await session.run(partial);
      cases.push(r);
      tried.push({ partial, report: r });
      return !isCorrupted(r.verdict);
    }),
    { numRuns: opts.numRuns ?? claim.numRuns, seed },
  );
  const inconclusive = cases.filter((c) => c.verdict === 'inconclusive');
  for (const c of inconclusive) t.log(`inconclusive case ${c.id}: ${c.reasons.join('; ')}`);
  const outcome = result.failed ? 'falsified' : 'holds';
  const changed = outcome === claim.expect ? '' : ` — CHANGED: recorded as ${claim.expect} when the claim was written`;
  t.log(`"${claim.statement}": observed ${outcome.toUpperCase()} on ${cases.length} cases (${verdictCounts(cases)}), seed ${seed}${changed}`);
  // compared with baselines/<series>-tun.json like every observation (a difference is a finding)
  observe(t, { id: claim.id, statement: claim.statement, outcome: outcome === 'holds' ? 'held' : 'falsified', transport: 'tun', detail: verdictCounts(cases) });
  const drops = cases.reduce((a, c) => a + (c.link?.events.filter((e) => e.kind === 'drop').length ?? 0), 0);
  if (cases.some((c) => c.link?.config.loss !== undefined)) {
    t.true(drops > 0, 'the link injected losses into at least one case');
    t.log(`  the link dropped ${drops} data segment(s) over the run`);
  }
  const thrown = result.errorInstance;
  if (thrown instanceof Error && !result.counterexample) t.fail(`a case threw: ${thrown.message}`);
  if (!result.failed || !result.counterexample) {
    t.is(inconclusive.length, 0, 'a claim that held needs every case conclusive');
    t.log(`  ${coverage(session.stats)}`);
    return { outcome, seed, cases };
  }
  const [experiment] = result.counterexample;
  const path = result.counterexamplePath ?? '';
  const failing = [...tried].reverse().find((x) => JSON.stringify(x.partial) === JSON.stringify(experiment) && isCorrupted(x.report.verdict))!.report;
  t.truthy(failing.evidence, 'the shrunk counterexample has an evidence bundle');
  if (failing.link?.arrived) t.true(existsSync(failing.link.arrived.pcap ?? ''), 'the bundle holds what reached the receiver (arrived.pcap) next to the wire (case.pcap)');
  t.log(`  minimal case: ${describe(experiment)}${experiment.link ? ` link=${JSON.stringify(experiment.link)}` : ''} → ${failing.verdict}${failing.reasons.length ? ` (${failing.reasons.join('; ')})` : ''}; evidence ${failing.evidence?.dir}`);
  t.log(`  replay: npx zcprobe run --replay ${claim.id}:${seed}:${path}`);
  t.log(`  ${coverage(session.stats)}`);
  return { outcome, seed, cases, failing, path };
}
