// How sure n clean cases let us be: the exact one-sided (Clopper–Pearson) upper bound on the corruption rate,
// p = 1 − (1 − level)^(1/n); at 95 % close to 3/n, the "rule of three".

/** 1 − the confidence level: the chance that a rate at the bound still shows no corruption. */
export const ALPHA = 0.05;
export const CONFIDENCE_LEVEL = 1 - ALPHA;

/** Upper bound on the corruption rate after n clean cases and none corrupted; null for n = 0
 * (no case, no bound). */
export function zeroFailureUpperBound(n: number, alpha = ALPHA): number | null {
  if (!Number.isInteger(n) || n <= 0) return null;
  return 1 - alpha ** (1 / n);
}

/** Clean cases needed for the bound to reach `rate`: the smallest n with bound(n) ≤ rate. */
export function casesForBound(rate: number, alpha = ALPHA): number {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`rate must be in (0, 1), got ${rate}`);
  let n = Math.ceil(Math.log(alpha) / Math.log(1 - rate));
  // The logarithms can land a hair above an integer; step down while the smaller n still fits.
  while (n > 1 && zeroFailureUpperBound(n - 1, alpha)! <= rate) n--;
  return n;
}

/** "39 %", "4.9 %", "0.30 %": two significant digits, a no-break space so it never wraps. */
export function formatRate(p: number): string {
  const pct = p * 100;
  const digits = pct >= 10 ? 0 : pct >= 1 ? 1 : 2;
  return `${pct.toFixed(digits)}\u00a0%`;
}
