// Fisher's exact test and the Clopper–Pearson interval against figures computed independently:
// R's fisher.test examples, and the hypergeometric / beta quantiles from Python (math.comb sums,
// scipy.stats.fisher_exact and beta.ppf give the same digits).
import test from 'ava';
import fc from 'fast-check';
import { clopperPearson, fisherExactTwoSided, fisherMinAttainable, ratesDiffer, taroneBonferroni } from './stats.ts';

const close = (actual: number, expected: number, rel = 1e-9) => Math.abs(actual - expected) <= rel * Math.max(1e-300, Math.abs(expected));

test("Fisher's exact test, two-sided: R's fisher.test examples and hand-summed hypergeometric pmfs", (t) => {
  const cases: [[number, number, number, number], number][] = [
    [[3, 1, 1, 3], 0.4857142857142857], // R ?fisher.test, TeaTasting: p-value = 0.4857
    [[2, 10, 15, 3], 0.0005367241191434358], // R ?fisher.test, Convictions (two-sided): 0.0005367
    [[0, 12, 3, 9], 0.21739130434782608],
    [[5, 0, 0, 5], 0.007936507936507936], // 2 / C(10, 5): five all-or-nothing cases can differ at 1 %
    [[6, 0, 0, 6], 0.0021645021645021645],
    [[1, 0, 0, 12], 0.07692307692307693], // a single outcome against 12 cases: 1/13
    [[0, 40, 10, 30], 0.0010296563497510117],
    [[7, 1, 5, 3], 0.5692307692307692],
    [[27, 75, 0, 40], 6.783288834338149e-5],
    [[10, 90, 3, 97], 0.08179405296897922],
    [[3, 9, 10, 30], 1],
  ];
  for (const [[a, b, c, d], p] of cases) {
    const got = fisherExactTwoSided(a, b, c, d);
    t.true(close(got, p), `[[${a}, ${b}], [${c}, ${d}]] → ${got}, expected ${p}`);
  }
  t.is(fisherExactTwoSided(0, 0, 0, 0), 1, 'no data, no difference');
  t.is(fisherExactTwoSided(1, 0, 1, 0), 1, 'both all seen');
  t.throws(() => fisherExactTwoSided(-1, 0, 0, 0), { instanceOf: RangeError });
});

test('Fisher: symmetric in the rows and in the columns, and a p-value', (t) => {
  fc.assert(
    fc.property(fc.nat(30), fc.nat(30), fc.nat(30), fc.nat(30), (a, b, c, d) => {
      const p = fisherExactTwoSided(a, b, c, d);
      return p > 0 && p <= 1 && close(p, fisherExactTwoSided(c, d, a, b), 1e-9) && close(p, fisherExactTwoSided(b, a, d, c), 1e-9);
    }),
  );
  t.pass();
});

test('ratesDiffer: the same rate never differs; all-or-nothing differs at 1 % from five cases on', (t) => {
  t.false(ratesDiffer({ seen: 3, runs: 12 }, { seen: 3, runs: 12 }, 0.01).differ);
  t.false(ratesDiffer({ seen: 4, runs: 4 }, { seen: 0, runs: 4 }, 0.01).differ, 'p = 2/70 = 0.029');
  t.true(ratesDiffer({ seen: 5, runs: 5 }, { seen: 0, runs: 5 }, 0.01).differ);
  t.throws(() => ratesDiffer({ seen: 4, runs: 3 }, { seen: 0, runs: 1 }, 0.01), { message: /0 ≤ seen ≤ runs/ });
});

test('Clopper–Pearson 95 % interval: beta quantiles (scipy.stats.beta.ppf) at the edges and inside', (t) => {
  const cases: [number, number, number, number][] = [
    [0, 1, 0, 0.975],
    [1, 1, 0.025, 1],
    [0, 12, 0, 0.2646484693970512],
    [3, 12, 0.05486064452799272, 0.5718584618781891],
    [27, 102, 0.18224328894684635, 0.3612935673396554],
    [10, 10, 0.6915028921812392, 1],
    [5, 40, 0.04185962613861671, 0.2680329173617204],
    [0, 40, 0, 0.08809730287880237],
  ];
  for (const [k, n, lo, hi] of cases) {
    const b = clopperPearson(k, n);
    const near = Math.abs(b.lower - lo) < 1e-9 && Math.abs(b.upper - hi) < 1e-9;
    t.true(near, `${k}/${n} → [${b.lower}, ${b.upper}], expected [${lo}, ${hi}]`);
  }
  t.deepEqual(clopperPearson(0, 0), { lower: 0, upper: 1 });
});

test("Fisher's smallest attainable p and Tarone's family: tests that cannot reach a threshold do not dilute it", (t) => {
  t.true(close(fisherMinAttainable({ seen: 10, runs: 10 }, { seen: 10, runs: 10 }), 1), 'no variation: p is 1 whatever happens');
  t.true(close(fisherMinAttainable({ seen: 6, runs: 6 }, { seen: 0, runs: 6 }), 2 / 924), 'all-or-nothing, 6 and 6: 2 / C(12, 6)');
  t.true(close(fisherMinAttainable({ seen: 3, runs: 10 }, { seen: 4, runs: 10 }), fisherExactTwoSided(7, 3, 0, 10)));
  // 50 tests, of which 3 could reach α/3: the family is those 3
  const reachable = [{ p: 0.002, minP: 1e-5 }, { p: 0.5, minP: 1e-5 }, { p: 0.2, minP: 1e-5 }];
  const tests = [...Array.from({ length: 47 }, () => ({ p: 1, minP: 1 })), ...reachable];
  const r = taroneBonferroni(tests, 0.01);
  t.is(r.K, 3);
  t.deepEqual(r.reject.map((x, i) => (x ? i : -1)).filter((i) => i >= 0), [47], '0.002 < 0.01 / 3');
  t.is(taroneBonferroni([], 0.01).reject.length, 0);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 30 }),
      (pairs) => {
        const ts = pairs.map(([a, b]) => ({ p: Math.max(a, b), minP: Math.min(a, b) }));
        const { K, reject } = taroneBonferroni(ts, 0.01);
        // between Bonferroni over all and no correction, and K is minimal
        const reachable = (k: number) => ts.filter((x) => x.minP <= 0.01 / k).length;
        const minimal = K === 1 || reachable(K - 1) > K - 1;
        return minimal && ts.every((x, i) => (!reject[i] || x.p < 0.01) && (!(x.p < 0.01 / Math.max(1, ts.length)) || reject[i]));
      },
    ),
  );
});
