// The statistics an observation needs: a rate's exact (Clopper–Pearson) interval and Fisher's exact
// test of two rates, both from the binomial and hypergeometric pmfs, so no dependency is needed.

/** ln(n!) for every n asked so far (sums of logs: exact enough for the counts a test suite runs). */
const logFactorials: number[] = [0, 0];
function logFactorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`log factorial of ${n}`);
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[n]!;
}

const logChoose = (n: number, k: number): number => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

function checkCount(seen: number, runs: number): void {
  if (!Number.isInteger(seen) || !Number.isInteger(runs) || seen < 0 || runs < 0 || seen > runs)
    throw new RangeError(`a rate needs 0 ≤ seen ≤ runs, got ${seen}/${runs}`);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  return Math.min(1, sum);
}

/** The p in [0, 1] where the decreasing function f crosses `target` (bisection to 1e-12). */
function solveDecreasing(f: (p: number) => number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The exact two-sided (Clopper–Pearson) confidence interval of a rate seen in `seen` of `runs`
 * cases: lower solves P(X ≥ seen) = α/2, upper solves P(X ≤ seen) = α/2 (0 and 1 at the edges). */
export function clopperPearson(seen: number, runs: number, level = 0.95): { lower: number; upper: number } {
  checkCount(seen, runs);
  if (runs === 0) return { lower: 0, upper: 1 };
  const half = (1 - level) / 2;
  // P(X ≥ seen | p) rises with p: its complement P(X ≤ seen − 1) falls.
  const lower = seen === 0 ? 0 : solveDecreasing((p) => binomialCdf(seen - 1, runs, p), 1 - half);
  const upper = seen === runs ? 1 : solveDecreasing((p) => binomialCdf(seen, runs, p), half);
  return { lower, upper };
}

/** Fisher's exact test, two-sided, of the 2×2 table [[a, b], [c, d]] (rows: two samples; columns:
 * seen, not seen). The p-value sums the hypergeometric probabilities of every table with the same
 * margins that is no more likely than the observed one, with R's fisher.test relative tolerance
 * (1 + 1e-7) so ties computed with rounding still count. */
export function fisherExactTwoSided(a: number, b: number, c: number, d: number): number {
  for (const x of [a, b, c, d])
    if (!Number.isInteger(x) || x < 0) throw new RangeError(`table cells must be counts, got ${[a, b, c, d].join(', ')}`);
  const row1 = a + b;
  const row2 = c + d;
  const col1 = a + c;
  const n = row1 + row2;
  if (row1 === 0 || row2 === 0 || col1 === 0 || col1 === n) return 1;
  const logPmf = (x: number) => logChoose(row1, x) + logChoose(row2, col1 - x) - logChoose(n, col1);
  const observed = logPmf(a);
  const limit = observed + Math.log1p(1e-7);
  let p = 0;
  for (let x = Math.max(0, col1 - row2); x <= Math.min(row1, col1); x++) {
    const lp = logPmf(x);
    if (lp <= limit) p += Math.exp(lp);
  }
  return Math.min(1, p);
}

/** Whether two rates differ beyond chance: Fisher's exact test, two-sided, at `alpha`. */
type Count = { seen: number; runs: number };
export function ratesDiffer(x: Count, y: Count, alpha: number): { p: number; differ: boolean } {
  checkCount(x.seen, x.runs);
  checkCount(y.seen, y.runs);
  const p = fisherExactTwoSided(x.seen, x.runs - x.seen, y.seen, y.runs - y.seen);
  return { p, differ: p < alpha };
}

/** The smallest p-value Fisher's two-sided test could give for tables with these margins (runs here,
 * runs there, seen in both): a comparison whose best case is above a threshold can never pass it. */
export function fisherMinAttainable(x: Count, y: Count): number {
  checkCount(x.seen, x.runs);
  checkCount(y.seen, y.runs);
  const k = x.seen + y.seen;
  let min = 1;
  for (let a = Math.max(0, k - y.runs); a <= Math.min(k, x.runs); a++)
    min = Math.min(min, fisherExactTwoSided(a, x.runs - a, k - a, y.runs - (k - a)));
  return min;
}

/** Tarone's modified Bonferroni for discrete tests (Tarone 1990): the smallest K such that at most K of
 * the tests could reach α/K at all (minP ≤ α/K); those are the family, each judged at α/K. Tests that
 * cannot reach it (e.g. 10/10 against 10/10: p is 1 whatever happens) cannot give a false rejection,
 * so they do not dilute the threshold. The chance of any false rejection stays at most α. */
export function taroneBonferroni(
  tests: readonly { p: number; minP: number }[],
  alpha: number,
): { K: number; threshold: number; reject: boolean[] } {
  const m = tests.length;
  let K = 1;
  while (K < m && tests.filter((x) => x.minP <= alpha / K).length > K) K++;
  const threshold = alpha / K;
  return { K, threshold, reject: tests.map((x) => x.p < threshold) };
}
