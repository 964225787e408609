import { patternA, patternB } from '/work/wt/serve/harness/model/patterns.ts';
const n = 4 << 20; const a = Buffer.from(patternA(n)); const b = Buffer.from(patternB(n));
function runs(intended: Uint8Array, observed: Uint8Array, after: Uint8Array) {
  let count = 0; const al = after.length;
  for (let base = 0; base < observed.length; base += 4096) {
    const end = Math.min(observed.length, base + 4096);
    let i = base;
    while (i < end) {
      let o = observed[i]!;
      const c = o === intended[i] ? 0 : o === 0 ? 1 : i < al && o === after[i] ? 2 : 3;
      let j = i + 1;
      for (; j < end; j++) {
        o = observed[j]!;
        const d = o === intended[j] ? 0 : o === 0 ? 1 : j < al && o === after[j] ? 2 : 3;
        if (d !== c) break;
      }
      count++; i = j;
    }
  }
  return count;
}
for (let k = 0; k < 4; k++) { const t = performance.now(); runs(a, b, b); console.log((performance.now() - t).toFixed(1)); }
