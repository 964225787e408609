// The verdict code must be able to say "corrupted": a doctored stream is flagged with the right
// counts, offsets and classes. This is what makes the write() property a real negative control.
import test from 'ava';
import { patternA, patternB } from '../model/patterns.ts';
import { compareStreams, decideVerdict, isIdentical, type Mismatch, type WireFacts } from './verdict.ts';

const twoWay = (m: Mismatch) => decideVerdict(m, undefined, []).verdict;

test('identical streams are clean', (t) => {
  const a = patternA(100_000);
  const m = compareStreams(a, Buffer.from(a), patternB(100_000));
  t.true(isIdentical(m));
  t.is(twoWay(m), 'clean');
});

test('a doctored stream is flagged: mutation bytes, zeros and other bytes are told apart', (t) => {
  const size = 1 << 20;
  const intended = patternA(size);
  const mutated = patternB(size);
  const got = Buffer.from(intended);
  mutated.copy(got, 5000, 5000, 9000); // 4000 bytes of the mutation pattern
  got.fill(0, 700_000, 700_100); // 100 zero bytes
  got[size - 1] = intended[size - 1]! ^ 0x01; // one other byte
  const m = compareStreams(intended, got, mutated);
  t.is(m.mismatchedBytes, 4101);
  t.is(m.equalsMutation, 4000);
  t.is(m.zero, 100);
  t.is(m.other, 1);
  t.is(m.firstOffset, 5000);
  t.is(m.lastOffset, size - 1);
  // one foreign byte makes the whole case a harness error, not a finding
  t.is(twoWay(m), 'inconclusive');
  got[size - 1] = intended[size - 1]!;
  t.is(twoWay(compareStreams(intended, got, mutated)), 'corrupted');
});

test('a short stream is not clean even when its prefix matches', (t) => {
  const a = patternA(10_000);
  const m = compareStreams(a, Buffer.from(a.subarray(0, 9_000)), patternB(10_000));
  t.is(m.mismatchedBytes, 0);
  t.is(m.lengthDelta, -1000);
  t.is(twoWay(m), 'corrupted');
});

test('a receiver-side failure reason makes the case inconclusive, never clean', (t) => {
  const m = compareStreams(patternA(10), patternA(10), patternB(10));
  t.is(decideVerdict(m, undefined, ['receiver: timed out']).verdict, 'inconclusive');
});

test('patterns: every byte of B differs from A and neither holds zero', (t) => {
  const a = patternA(251 * 4);
  const b = patternB(251 * 4);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || a[i] === 0 || b[i] === 0) t.fail(`offset ${i}`);
  }
  t.pass();
});

const same = compareStreams(patternA(10), patternA(10), patternB(10));
const differs = compareStreams(patternA(10), patternB(10), patternB(10));
const wire = (mismatch = same, extra: Partial<WireFacts> = {}): WireFacts =>
  ({ mismatch, complete: true, conflicts: [], droppedByKernel: 0, integrity: [], ...extra });
const conflict = { changed: differs };

test('three-way verdict: clean, on-wire, after-wire', (t) => {
  t.is(decideVerdict(same, wire(), []).verdict, 'clean');
  t.is(decideVerdict(differs, wire(differs), []).verdict, 'corrupted-on-wire');
  t.is(decideVerdict(differs, wire(), []).verdict, 'corrupted-after-wire');
});

test('three-way verdict: a differing retransmission is its own outcome while the receiver is intact', (t) => {
  const v = decideVerdict(same, wire(same, { conflicts: [conflict] }), []);
  t.is(v.verdict, 'corrupted-on-retransmit');
  t.regex(v.reasons.join(), /retransmission/);
  t.is(decideVerdict(differs, wire(same, { conflicts: [conflict] }), []).verdict, 'corrupted-on-wire');
});

test('three-way verdict: drops, gaps and safeguard timeouts are inconclusive, never clean', (t) => {
  t.is(decideVerdict(same, wire(same, { droppedByKernel: 3 }), []).verdict, 'inconclusive');
  t.is(decideVerdict(same, wire(same, { complete: false }), []).verdict, 'inconclusive');
  t.is(decideVerdict(differs, wire(same, { complete: false }), []).verdict, 'inconclusive');
  t.is(decideVerdict(same, wire(), ['safeguard timed out']).verdict, 'inconclusive');
  t.is(decideVerdict(differs, wire(differs), ['safeguard timed out']).verdict, 'inconclusive', 'a timeout never falsifies a safeguard');
  t.is(decideVerdict(differs, wire(differs, { integrity: ['no SYN'] }), []).verdict, 'inconclusive');
  // but mutated bytes seen on the wire stay proof even with drops
  t.is(decideVerdict(differs, wire(differs, { droppedByKernel: 3 }), []).verdict, 'corrupted-on-wire');
});

test('without a capture the verdict is two-way', (t) => {
  t.is(decideVerdict(same, undefined, []).verdict, 'clean');
  t.is(decideVerdict(differs, undefined, []).verdict, 'corrupted');
});
