// The received bytes travel as a description against the patterns; rebuilding must give the
// exact bytes for any mix of A, B, zero and foreign bytes, and a summary that does not check out
// must be refused, never turned into plausible bytes.
import test from 'ava';
import fc from 'fast-check';
import { patternA, patternB } from '../../model/patterns.ts';
import { MAX_RUNS, rebuildReceived, summarizeReceived } from './received-summary.ts';

/** Bytes of length n built from segments of A, B, zero or random bytes. */
const received = fc
  .array(fc.record({ kind: fc.constantFrom('A', 'B', 'Z', 'R'), len: fc.integer({ min: 1, max: 9000 }), seed: fc.integer({ min: 0, max: 255 }) }), { maxLength: 12 })
  .map((segs) => {
    const n = segs.reduce((s, x) => s + x.len, 0);
    const out = Buffer.alloc(n);
    let at = 0;
    for (const s of segs) {
      const src = s.kind === 'A' ? patternA(n) : s.kind === 'B' ? patternB(n) : null;
      for (let i = at; i < at + s.len; i++) out[i] = src ? src[i]! : s.kind === 'Z' ? 0 : (i * 7 + s.seed) & 0xff;
      at += s.len;
    }
    return out;
  });

test('rebuilding a summary gives the exact bytes', (t) => {
  fc.assert(
    fc.property(received, (data) => {
      const { summary, raw } = summarizeReceived(data);
      return rebuildReceived(summary, raw).equals(data);
    }),
  );
  t.pass();
});

test('a corrupted 1 MiB case travels as a few runs, not as bytes', (t) => {
  const n = 1 << 20;
  const data = Buffer.from(patternA(n));
  patternB(n).copy(data, 113152, 113152, n); // the wire/receiver shape vmsplice shows
  const { summary, raw } = summarizeReceived(data);
  t.deepEqual(summary.runs, [[113152, n, 'B']]);
  t.is(raw.length, 0);
});

test('bytes alternating between classes are sent raw, still exactly', (t) => {
  const n = 2 * (MAX_RUNS + 10);
  const data = Buffer.from(patternA(n));
  for (let i = 0; i < n; i += 2) data[i] = 0;
  const { summary, raw } = summarizeReceived(data);
  t.is(summary.encoding, 'raw');
  t.true(rebuildReceived(summary, raw).equals(data));
});

test('a tampered summary or attachment is refused', (t) => {
  const data = Buffer.from(patternA(10000));
  data.fill(0, 100, 200);
  data[5000] = 0xee;
  const { summary, raw } = summarizeReceived(data);
  t.throws(() => rebuildReceived({ ...summary, runs: summary.runs.map(([s, e, k]) => [s, e + 1, k]) }, raw), { message: /SHA-256|out of order|raw bytes/ });
  t.throws(() => rebuildReceived(summary, Buffer.concat([raw, Buffer.from([1])])), { message: /raw bytes attached/ });
  t.throws(() => rebuildReceived({ ...summary, runs: [...summary.runs].reverse() }, raw), { message: /out of order/ });
  t.throws(() => rebuildReceived({ ...summary, sha256: '0'.repeat(64) }, raw), { message: /SHA-256/ });
});
