// The clock estimate: with a known offset and asymmetric delays, the true offset is always
// within the stated uncertainty, and the sample with the smallest round trip wins.
import test from 'ava';
import fc from 'fast-check';
import { estimateOffset, TIMESTAMP_RESOLUTION_MS } from './clock.ts';

/** An exchange with the agent `offset` ms ahead, `up`/`down` ms on the wire, `work` ms inside. */
function exchange(t1: number, offset: number, up: number, down: number, work: number) {
  const t2 = t1 + up + offset;
  const t3 = t2 + work;
  return { sample: { t1, t2, t3 }, t4: t3 - offset + down };
}

test('the true offset lies within ± uncertainty whatever the path asymmetry', (t) => {
  fc.assert(
    fc.property(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.array(
        fc.tuple(
          fc.double({ min: 0, max: 50, noNaN: true }),
          fc.double({ min: 0, max: 50, noNaN: true }),
          fc.double({ min: 0, max: 5, noNaN: true }),
        ),
        { minLength: 1, maxLength: 10 },
      ),
      (offset, paths) => {
        const e = estimateOffset(paths.map(([up, down, work], i) => exchange(1e12 + i * 1000, offset, up, down, work)));
        return Math.abs(e.offsetMs - offset) <= e.uncertaintyMs && e.samples === paths.length;
      },
    ),
  );
  t.pass();
});

test('the smallest round trip wins; a sample with a negative round trip is ignored', (t) => {
  const e = estimateOffset([exchange(0, 10, 5, 1, 0), exchange(100, 10, 0.2, 0.2, 0), { sample: { t1: 200, t2: 250, t3: 400 }, t4: 210 }]);
  t.true(Math.abs(e.rttMs - 0.4) < 1e-9);
  t.true(Math.abs(e.uncertaintyMs - 0.2 - TIMESTAMP_RESOLUTION_MS) < 1e-9);
  t.true(Math.abs(e.offsetMs - 10) < 1e-9);
  t.throws(() => estimateOffset([]), { message: /no usable clock sample/ });
});
