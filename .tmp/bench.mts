import { classifyBytes } from '/work/wt/serve/harness/verdict/byte-classes.ts';
import { compareStreams } from '/work/wt/serve/harness/verdict/verdict.ts';
import { patternA, patternB } from '/work/wt/serve/harness/model/patterns.ts';
const n = 4 << 20; const a = Buffer.from(patternA(n)); const b = Buffer.from(patternB(n));
for (let i = 0; i < 8; i++) {
  let t = performance.now(); classifyBytes(a, b, b); const c1 = performance.now() - t;
  t = performance.now(); compareStreams(a, b, b); const c2 = performance.now() - t;
  t = performance.now(); classifyBytes(a, a, b); const c3 = performance.now() - t;
  console.log(`classify(all new) ${c1.toFixed(0)} ms, compare(all new) ${c2.toFixed(0)} ms, classify(identical) ${c3.toFixed(0)}`);
}
