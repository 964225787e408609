// Cell headlines answer "is reuse safe here?": every corrupted case counts whatever its kind,
// inconclusive cases are visible, and a clean cell states the bound its cases support.
import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildMatrixCells, cellHeadline, KIND_WORDS, type CaseLike } from './cells.ts';
import { CORRUPTED, type Verdict } from './types.ts';

const NBSP = '\u00a0';
const cases = (spec: Partial<Record<Verdict, number>>, cell = { method: 'sendfile', safeguard: 'none', transport: 'loopback' }): CaseLike[] =>
  Object.entries(spec).flatMap(([verdict, n]) =>
    Array.from({ length: n ?? 0 }, (_, i) => ({ id: `${verdict}-${i}`, ...cell, size: 65536, verdict: verdict as Verdict, reasons: verdict === 'inconclusive' ? ['gap'] : [], received: { bytes: 65536 } })),
  );
const only = (spec: Partial<Record<Verdict, number>>) => {
  const cells = buildMatrixCells(cases(spec));
  if (cells.length !== 1) throw new Error('one cell expected');
  return cells[0]!;
};

test('every case of a cell corrupted in mixed ways: the headline counts all of them, coloured by the worst kind', (t) => {
  const cell = only({ 'corrupted-after-wire': 4, 'corrupted-on-wire': 2 });
  t.is(cell.headline, '6/6 corrupted (2 on wire, 4 after wire)');
  t.is(cell.verdict, 'corrupted-on-wire');
  t.is(cell.corruptedCases, 6);
  t.is(cell.upperBound95, null);
  t.is(cell.counterexampleIds.length, 6);
});

test('a differing retransmission is a corrupted case, counted with the others; inconclusive cases are counted visibly', (t) => {
  const mixed = only({ 'corrupted-on-retransmit': 1, 'corrupted-after-wire': 2, 'corrupted-on-wire': 1, inconclusive: 2 });
  t.is(mixed.headline, '4/6 corrupted (1 on wire, 2 after wire, 1 on retransmit), 2 inconclusive');
  t.is(mixed.verdict, 'corrupted-on-wire');
  const retransmit = only({ clean: 5, 'corrupted-on-retransmit': 1 });
  t.is(retransmit.headline, '1/6 corrupted (1 on retransmit)');
  t.is(retransmit.verdict, 'corrupted-on-retransmit');
  t.is(retransmit.upperBound95, null, 'a corrupted case means no bound on a zero rate');
  t.is(only({ corrupted: 3 }).headline, '3/3 corrupted (3 without capture)');
});

test('a clean cell states its n and the 95 % upper bound on the corruption rate', (t) => {
  const clean = only({ clean: 6 });
  t.is(clean.verdict, 'clean');
  t.is(clean.headline, `6/6 clean; rate ≤${NBSP}39${NBSP}% at 95${NBSP}%`);
  t.is(clean.upperBound95, 1 - 0.05 ** (1 / 6));
  // Inconclusive cases are not evidence: the bound covers the clean ones only.
  const partly = only({ clean: 4, inconclusive: 2 });
  t.is(partly.verdict, 'inconclusive');
  t.is(partly.headline, `4/6 clean, 2 inconclusive; rate ≤${NBSP}53${NBSP}% at 95${NBSP}%`);
  t.is(partly.upperBound95, 1 - 0.05 ** (1 / 4));
  t.is(only({ inconclusive: 3 }).headline, '3/3 inconclusive');
  t.is(only({ inconclusive: 3 }).upperBound95, null);
  const [skipped] = buildMatrixCells([], [{ method: 'io-uring-zc', safeguard: 'none', transport: 'veth', reason: 'EPERM' }]);
  t.is(skipped!.headline, 'skipped');
});

test('property: the headline leads with (all corrupted)/(all cases) and names every corrupted kind present', (t) => {
  const count = fc.nat({ max: 5 });
  fc.assert(
    fc.property(fc.record({ clean: count, inconclusive: count, ...Object.fromEntries(CORRUPTED.map((v) => [v, count])) }), (spec) => {
      const total = Object.values(spec).reduce((a, b) => a + b, 0);
      fc.pre(total > 0);
      const counts = Object.fromEntries(Object.entries(spec).filter(([, n]) => n > 0)) as Partial<Record<Verdict, number>>;
      const corrupted = CORRUPTED.reduce((s, v) => s + (counts[v] ?? 0), 0);
      const h = cellHeadline({ cases: total, counts });
      if (corrupted > 0) {
        assert.ok(h.startsWith(`${corrupted}/${total} corrupted (`), h);
        for (const v of CORRUPTED) {
          const n = counts[v] ?? 0;
          assert.equal(new RegExp(`[(,] ?\\d+ ${KIND_WORDS[v]}[,)]`).test(h), n > 0, `${v} named iff present: ${h}`);
          if (n > 0) assert.ok(h.includes(`${n} ${KIND_WORDS[v]}`), h);
        }
      } else if ((counts.clean ?? 0) > 0) assert.ok(h.startsWith(`${counts.clean}/${total} clean`) && h.includes('rate ≤'), h);
      else assert.equal(h, `${total}/${total} inconclusive`);
      assert.equal(h.includes('inconclusive'), (counts.inconclusive ?? 0) > 0, h);
    }),
  );
  t.pass('fast-check found no counterexample');
});

test('per stress condition: a corruption only one condition shows is named with its own rate, not just the pooled one', (t) => {
  const cell = { method: 'msg-zerocopy', safeguard: 'none', transport: 'veth' };
  const at = (size: number, receiverDelayMs: number, buffers: { rcvbuf?: number; sndbuf?: number }, verdicts: Verdict[]): CaseLike[] =>
    verdicts.map((verdict, i) => ({
      id: `${size}-${receiverDelayMs}-${buffers.sndbuf ?? 0}-${i}`, ...cell, size, receiverDelayMs,
      rcvbuf: buffers.rcvbuf ?? null, sndbuf: buffers.sndbuf ?? null, verdict, reasons: [], received: { bytes: size },
    }));
  const [c] = buildMatrixCells([
    ...at(65536, 50, {}, ['clean', 'clean']),
    ...at(1 << 20, 50, {}, ['corrupted-on-wire', 'clean']),
    ...at(1 << 20, 300, { rcvbuf: 32 << 20 }, ['clean', 'clean']),
    ...at(1 << 20, 50, { sndbuf: 4 << 20 }, ['corrupted-on-wire', 'corrupted-on-wire']),
  ]);
  t.deepEqual(c!.conditions, [
    { condition: '64 KiB read 50 ms late', cases: 2, corrupted: 0 },
    { condition: '1 MiB read 50 ms late', cases: 2, corrupted: 1 },
    { condition: '1 MiB read 300 ms late, rcvbuf 32 MiB', cases: 2, corrupted: 0 },
    { condition: '1 MiB read 50 ms late, sndbuf 4 MiB', cases: 2, corrupted: 2 },
  ]);
  t.is(c!.headline, '3/8 corrupted (3 on wire); 2/2 at 1 MiB read 50 ms late, sndbuf 4 MiB');
  // Spread evenly (or one condition only): the pooled count says it all.
  const [even] = buildMatrixCells([
    ...at(65536, 50, {}, ['corrupted-on-wire', 'clean']),
    ...at(1 << 20, 50, {}, ['clean', 'corrupted-on-wire']),
  ]);
  t.is(even!.headline, '2/4 corrupted (2 on wire)');
  t.is(only({ 'corrupted-on-wire': 1, clean: 5 }).headline, '1/6 corrupted (1 on wire)');
});
