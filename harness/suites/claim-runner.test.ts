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

const observation = (numRuns = 30): Claim => ({ ...claim('falsified'), kind: 'observation', numRuns });

test('an observation runs its whole sample and counts it; shrinking runs are not counted', async (t) => {
  const sizes: number[] = [];
  const out = await runClaimCases(async (p) => {
    sizes.push(p.size);
    return report(p.size >= 500 ? 'corrupted-on-wire' : p.size % 7 === 0 ? 'inconclusive' : 'clean');
  }, observation(), { seed: 11 });
  t.is(out.outcome, 'falsified');
  const sample = sizes.slice(0, 30);
  const inconclusive = sample.filter((s) => s < 500 && s % 7 === 0).length;
  t.deepEqual(out.rate, { seen: sample.filter((s) => s >= 500).length, runs: 30 - inconclusive, inconclusive });
  t.true(sizes.length > 30, 'then the first corrupted case was replayed and shrunk');
  t.is(out.counterexample?.experiment.size, 500);
  t.is(out.cases.length, sizes.length);
});

test('an observation with no corrupted case held, with its count; all inconclusive is undecided', async (t) => {
  const held = await runClaimCases(async () => report('clean'), observation(12), { seed: 2 });
  t.is(held.outcome, 'held');
  t.deepEqual(held.rate, { seen: 0, runs: 12, inconclusive: 0 });
  t.is((await runClaimCases(async () => report('inconclusive'), observation(5), { seed: 2 })).outcome, 'undecided');
});

test('a sampled corrupted case that comes out clean when replayed stands unshrunk (timing)', async (t) => {
  let n = 0;
  // Only the third case ever corrupts; its replay (the 31st run) is clean.
  const out = await runClaimCases(async () => report(++n === 3 ? 'corrupted-after-wire' : 'clean'), observation(), { seed: 5 });
  t.is(out.outcome, 'falsified');
  t.deepEqual(out.rate, { seen: 1, runs: 30, inconclusive: 0 });
  t.is(out.counterexample?.path, '2');
  t.is(out.counterexample?.shrinks, 0);
  t.is(n, 31);
});
