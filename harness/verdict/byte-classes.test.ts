import test from 'ava';
import { classifyBytes, formatClasses } from './byte-classes.ts';

const A = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i % 251) + 1);
const B = (n: number) => A(n).map((v) => v ^ 0xff);

test('identical streams are one old range', (t) => {
  const c = classifyBytes(A(10000), A(10000), B(10000));
  t.deepEqual(c.ranges, [{ start: 0, end: 10000, class: 'old' }]);
  t.is(c.bytes.old, 10000);
});

test('a truncated tail: old, then zero, then missing, each in its place', (t) => {
  const size = 10000;
  const observed = A(9000);
  observed.fill(0, 6000);
  const after = A(size).fill(0, 6000);
  const c = classifyBytes(A(size), observed, after);
  t.deepEqual(c.ranges, [
    { start: 0, end: 6000, class: 'old' },
    { start: 6000, end: 9000, class: 'zero' },
    { start: 9000, end: 10000, class: 'missing' },
  ]);
  t.is(formatClasses(c), 'old [0,6000) zero [6000,9000) missing [9000,10000)');
});

test('new bytes where the mutation wrote them, other where nothing explains them, extra past the end', (t) => {
  const size = 8192;
  const observed = new Uint8Array(size + 3);
  observed.set(A(size));
  observed.set(B(size).subarray(100, 200), 100);
  observed[300] = 0x55 ^ observed[300]!; // neither A, B nor zero (A^0x55 ≠ A^0xff, never 0: A has no 0x55)
  observed.set([7, 7, 7], size);
  const c = classifyBytes(A(size), observed, B(size));
  t.deepEqual(c.ranges.map((r) => [r.class, r.start, r.end]), [
    ['old', 0, 100], ['new', 100, 200], ['old', 200, 300], ['other', 300, 301], ['old', 301, size], ['extra', size, size + 3],
  ]);
  t.deepEqual(c.bytes, { old: size - 101, new: 100, zero: 0, other: 1, missing: 0, extra: 3 });
});

test('ranges past the limit are counted, not listed, and the byte counts stay exact', (t) => {
  const size = 1000;
  const observed = A(size);
  for (let i = 0; i < size; i += 2) observed[i] = 0;
  const c = classifyBytes(A(size), observed, B(size), 10);
  t.is(c.ranges.length, 10);
  t.is(c.omittedRanges, size - 10);
  t.is(c.bytes.zero, 500);
  t.is(c.bytes.old, 500);
  t.regex(formatClasses(c, 2), /\(\+998 more ranges\)$/);
});
