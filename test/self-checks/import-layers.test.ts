// Hypothesis: harness/ keeps its layers — no product file imports a higher layer or test code, and
// no import cycle exists. The checker itself is shown to catch both on a made-up graph.
import test from 'ava';
import { resolve } from 'node:path';
import { importCycles, readGraph, upwardImports, type ImportGraph } from '../../test-support/import-graph.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

test('no product file in harness/ imports a higher layer or test code', (t) => {
  const graph = readGraph(ROOT);
  t.true(graph.size > 100, `read ${graph.size} files`);
  t.deepEqual(upwardImports(graph), []);
});

test('harness/ has no import cycle', (t) => {
  t.deepEqual(importCycles(readGraph(ROOT)), []);
});

test('the checker catches an upward import, an import of test code, a forbidden folder and a cycle', (t) => {
  const graph: ImportGraph = new Map([
    ['harness/model/a.ts', ['harness/session/b.ts']],
    ['harness/session/b.ts', ['harness/model/a.ts', 'test-support/x.ts']],
    ['harness/verdict/c.test.ts', ['harness/cli/d.ts']],
    ['harness/cli/d.ts', []],
    ['harness/verdict/e.ts', ['harness/roles/agent/f.ts']],
    ['harness/roles/agent/f.ts', []],
  ]);
  t.deepEqual(upwardImports(graph), [
    'harness/model/a.ts (model) imports harness/session/b.ts (session), a higher layer',
    'harness/session/b.ts imports test-support/x.ts, which is not product code',
    'harness/verdict/e.ts imports harness/roles/agent/f.ts: verdict never imports roles',
  ]);
  t.deepEqual(importCycles(graph), [['harness/model/a.ts', 'harness/session/b.ts']]);
});
