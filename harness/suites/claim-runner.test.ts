// A claim's outcome cannot come from the wrong reason: a harness throw is 'error' (never a
// counterexample), an all-inconclusive run is 'undecided' (never "held"), and only a conclusive
// corrupted case whose safeguard reached its point falsifies.
import test from 'ava';
import fc from 'fast-check';
import type { CaseReport } from '../verdict/case-report.ts';
import { runClaimCases } from './claim-runner.ts';
import type { Claim, ExperimentPartial } from '../model/claims/index.ts';
import type { Verdict } from '../verdict/verdict.ts';

const claim = (expect: Claim['expect']): Claim => ({
  id: 'test-claim', statement: 'reuse is safe', kind: 'universal', expect, numRuns: 30,
  experiments: fc.integer({ min: 1, max: 1000 }).map((size): ExperimentPartial => ({ method: 'vmsplice', size })),
});

/** Only the fields the runner reads. */
const report = (verdict: Verdict, reached = true): CaseReport => ({ id: 'c', verdict, reasons: [], safeguardResult: { waitedMs: 0, signal: '', reached } }) as unknown as CaseReport;

test('a harness that throws is an error with its message, not a counterexample', async (t) => {
  const out = await runClaimCases(async () => { throw new Error('receiver died'); }, claim('falsified'), { seed: 1 });
  t.is(out.outcome, 'error');
  t.is(out.error?.message, 'receiver died');
  t.is(out.counterexample, undefined);
});

test('every case inconclusive → undecided, for either expectation', async (t) => {
  for (const expect of ['holds', 'falsified'] as const) {
    const out = await runClaimCases(async () => report('inconclusive'), claim(expect), { seed: 1 });
    t.is(out.outcome, 'undecided');
  }
});

test('a corrupted case whose safeguard did not reach its point does not falsify', async (t) => {
  const out = await runClaimCases(async () => report('corrupted-after-wire', false), claim('falsified'), { seed: 1 });
  t.is(out.outcome, 'held');
});

test('a conclusive corrupted case falsifies and is shrunk to the smallest failing size', async (t) => {
  const out = await runClaimCases(async (p) => report(p.size >= 100 ? 'corrupted-on-wire' : 'clean'), claim('falsified'), { seed: 7 });
  t.is(out.outcome, 'falsified');
  t.is(out.counterexample?.experiment.size, 100);
  t.is(out.counterexample?.failing.verdict, 'corrupted-on-wire');
});

test('corrupted-on-retransmit counts as corruption', async (t) => {
  const out = await runClaimCases(async () => report('corrupted-on-retransmit'), claim('falsified'), { seed: 3 });
  t.is(out.outcome, 'falsified');
});
