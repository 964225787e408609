// Claim: the in-tree report validator (harness/report/validate.ts) and ajv (draft 2020-12, the
// oracle) agree on schema/report.schema.json for every document: the sample report and any
// mutation of it (a property deleted, replaced by any JSON value, or added), valid or not.
import test from 'ava';
import fc from 'fast-check';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { validateReport } from '../../harness/report/validate.ts';
import { ajvReportErrors } from '../../test-support/report-schema-oracle.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Mutation {
  /** choices of the child to descend into, modulo the number of children */
  steps: number[];
  op: 'delete' | 'replace' | 'add';
  value: Json;
  key: string;
}

/** Applies `m` to a copy of `doc`: walks `steps` down, then deletes, replaces or adds there. */
function mutate(doc: Json, m: Mutation): Json {
  const root = structuredClone(doc);
  let parent: Json[] | { [k: string]: Json } | null = null;
  let key: string | number | null = null;
  let node: Json = root;
  for (const s of m.steps) {
    if (node === null || typeof node !== 'object') break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (!keys.length) break;
    parent = node;
    key = keys[s % keys.length]!;
    node = (node as Record<string | number, Json>)[key]!;
  }
  if (m.op === 'add' && node !== null && typeof node === 'object' && !Array.isArray(node)) {
    node[m.key] = m.value;
    return root;
  }
  if (parent === null || key === null) return m.op === 'replace' ? m.value : root;
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    (parent as Record<string | number, Json>)[key] = m.value;
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  steps: fc.array(fc.nat(), { maxLength: 8 }),
  op: fc.constantFrom('delete', 'replace', 'add'),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(0, -1, 1.5, '', 'clean', 'inconclusive', null, [], {})) as fc.Arbitrary<Json>,
  key: fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
});

test('the in-tree validator and ajv agree on the sample report and on any mutation of it', (t) => {
  const base = JSON.parse(JSON.stringify(sampleReport())) as Json;
  t.deepEqual(validateReport(base), []);
  t.deepEqual(ajvReportErrors(base), []);
  let valid = 0;
  let invalid = 0;
  fc.assert(
    fc.property(mutation, (m) => {
      const doc = mutate(base, m);
      const ours = validateReport(doc);
      const theirs = ajvReportErrors(doc);
      if (ours.length === 0 !== (theirs.length === 0)) {
        throw new Error(`disagree: in-tree ${JSON.stringify(ours.slice(0, 3))} vs ajv ${JSON.stringify(theirs.slice(0, 3))}`);
      }
      if (ours.length) invalid++;
      else valid++;
    }),
    { numRuns: 2000, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  );
  t.log(`${valid} valid and ${invalid} invalid mutated reports, same verdict from both validators`);
  t.true(valid > 50 && invalid > 50, `both outcomes were exercised (${valid} valid, ${invalid} invalid)`);
});
