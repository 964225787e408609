// The confidence bound a run of clean cases supports: exact, monotone, ≈ 3/n, and invertible.
import test from 'ava';
import { casesForBound, formatRate, zeroFailureUpperBound } from './confidence.ts';

test('zeroFailureUpperBound is the exact one-sided bound 1 − 0.05^(1/n): n clean cases have a 5 % chance at that rate', (t) => {
  t.is(zeroFailureUpperBound(0), null);
  t.is(zeroFailureUpperBound(1), 0.95);
  for (const n of [1, 2, 3, 6, 12, 59, 300]) {
    const p = zeroFailureUpperBound(n)!;
    t.true(Math.abs((1 - p) ** n - 0.05) < 1e-12, `n=${n}: (1 − p)^n = 0.05`);
  }
  t.is(zeroFailureUpperBound(6)!.toFixed(4), '0.3930');
  // The rule of three: 3/n overestimates slightly and the two meet as n grows.
  for (const n of [30, 100, 1000]) {
    const p = zeroFailureUpperBound(n)!;
    t.true(p < 3 / n && p > 0.95 * (3 / n), `n=${n}: ${p} ≈ ${3 / n}`);
  }
});

test('casesForBound is the smallest n whose bound reaches the rate', (t) => {
  for (const rate of [0.5, 0.2, 0.05, 0.01, 0.001]) {
    const n = casesForBound(rate);
    t.true(zeroFailureUpperBound(n)! <= rate, `n=${n} reaches ${rate}`);
    if (n > 1) t.true(zeroFailureUpperBound(n - 1)! > rate, `n−1=${n - 1} does not`);
  }
  t.is(casesForBound(0.05), 59);
  t.throws(() => casesForBound(0));
  t.throws(() => casesForBound(1));
});

test('formatRate: two significant digits, never broken across lines', (t) => {
  t.is(formatRate(0.393), '39\u00a0%');
  t.is(formatRate(0.0487), '4.9\u00a0%');
  t.is(formatRate(0.00994), '0.99\u00a0%');
  t.is(formatRate(0.95), '95\u00a0%');
});
