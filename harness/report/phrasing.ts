// Sentences both renderings print from report data, so the HTML and the Markdown say the same.
import { CONFIDENCE_LEVEL, casesForBound, formatRate, zeroFailureUpperBound } from './confidence.ts';
import type { Recommendation, Report, SafeguardCost } from './types.ts';

/** "0.32× write()", "0.32× write() on loopback" (measured on another transport), "not measured". */
export function costText(cost: SafeguardCost, scopeTransport: string | undefined): string {
  if (cost.ratio === null) return 'cost not measured';
  const elsewhere = cost.measuredOn !== null && cost.measuredOn !== scopeTransport ? ` on ${cost.measuredOn}` : '';
  return `${Number(cost.ratio.toFixed(2))}× write()${elsewhere}`;
}

/** What a clean cell's bound means, and how many repeats tighten it to 5 % and 1 %. */
export function confidenceText(plan: Report['plan']): string {
  const perCell = plan.repeats * plan.casesPerRepeat;
  const now = zeroFailureUpperBound(perCell);
  const repeatsFor = (rate: number) => Math.ceil(casesForBound(rate) / plan.casesPerRepeat);
  const level = formatRate(CONFIDENCE_LEVEL);
  return (
    `A cell with n clean cases and none corrupted bounds the corruption rate at 1 − 0.05^(1/n) with ${level} confidence (≈ 3/n, the rule of three). ` +
    `This run gave each cell ${perCell} cases (${plan.repeats} repeats × ${plan.casesPerRepeat} stress conditions)` +
    (now === null ? '. ' : `: at best ≤ ${formatRate(now)}. `) +
    `To tighten it: npm start -- --repeats ${repeatsFor(0.05)} (≤\u00a05\u00a0%) or --repeats ${repeatsFor(0.01)} (≤\u00a01\u00a0%).`
  );
}

/** The report's findings, first on every rendering: evidence against a documented contract, then
 * observations whose rate differs from the baseline's beyond chance. */
export function reportFindings(r: Report): { kind: 'contract' | 'observation'; line: string; counterexample: string | null }[] {
  return [
    ...r.recommendations.contradictions.map((c) => ({ kind: 'contract' as const, line: c.line, counterexample: c.counterexample })),
    ...(r.observations?.rows ?? [])
      .filter((o) => o.status === 'differs')
      .map((o) => ({ kind: 'observation' as const, line: o.line, counterexample: null })),
  ];
}

/** The "cheapest safeguard that held" cell when nothing the contract allows held. */
export function noUseText(row: Recommendation): string {
  const c = row.contract;
  if (c.holds !== 'copy') return `none held that the API allows (it requires ${c.safePoint})`;
  return 'none held';
}
