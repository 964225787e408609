// The report shows the last test run's observations as rates against the baseline's, a difference
// beyond chance over the run's comparisons (Fisher, 1 % / K, Tarone) first and as a finding, in JSON, HTML and Markdown; a finding
// against a contract still comes before any observation.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baseline } from '../model/baselines.ts';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { loadObservations } from './observations.ts';
import { buildRecommendations } from './recommend.ts';
import { validateReport } from './validate.ts';

const REL = '6.18.44-test';
const entry = (seen: number, runs: number, extra = {}) => ({ statement: 's', event: 'corrupted', seen, runs, ...extra });
const baseline: Baseline = {
  format: 2, kernel: '6.18.44-fc-v857', transport: 'loopback', writtenAt: '2026-11-30T00:00:00Z',
  observations: {
    'msg-zerocopy-reuse': entry(20, 25),
    'splice-ftruncate': entry(0, 6),
    'io-uring-zc-reuse': entry(1, 1, { migratedFrom: { outcome: 'falsified', single: true } }),
  },
};
const line = (id: string, seen: number, runs: number, transport = 'loopback') => ({
  id, statement: 's', event: 'corrupted', seen, runs, transport, kernel: REL,
});

function withFile<T>(lines: object[], f: (file: string, dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-obs-'));
  try {
    const file = join(dir, `${REL}.jsonl`);
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return f(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('observations: a rate that differs beyond chance is a finding, listed first, in JSON, HTML and Markdown', (t) => {
  withFile(
    [
      line('splice-ftruncate', 0, 6),
      line('msg-zerocopy-reuse', 19, 25),
      line('msg-zerocopy-reuse', 0, 25), // the last one counts
      line('io-uring-zc-reuse', 0, 25), // against a single outcome: never significant at 25 cases
      line('siocoutq-vmsplice-veth', 3, 5, 'veth'),
    ],
    (file, dir) => {
      const o = loadObservations(file, (tr) => (tr === 'loopback' ? baseline : undefined), REL);
      if (!o) return t.fail('no observations loaded');
      t.deepEqual(o.rows.map((r) => [r.id, r.status]), [
        ['msg-zerocopy-reuse', 'differs'],
        ['io-uring-zc-reuse', 'consistent'],
        ['siocoutq-vmsplice-veth', 'no-baseline'],
        ['splice-ftruncate', 'consistent'],
      ]);
      const finding = o.rows[0]!;
      t.is(finding.outcome, '0/25 corrupted (95 % CI 0–14 %)');
      t.deepEqual(finding.baseline, { seen: 20, runs: 25, outcome: '20/25 corrupted (95 % CI 59–93 %)', singleOutcome: false });
      t.true(finding.pValue! < 1e-6);
      t.regex(finding.line, /^FINDING: msg-zerocopy-reuse on 6\.18\.44-test \(loopback\): 0\/25 corrupted /);
      t.regex(finding.line, / Fisher's exact test, two-sided: p = [0-9.e-]+ < threshold 0\.01 = 0\.01 \/ 1, the 1 of 3 comparisons /);
      const single = o.rows[1]!;
      t.true(single.baseline!.singleOutcome);
      t.is(Number(single.pValue!.toFixed(4)), Number((1 / 26).toFixed(4)), '0 of 25 against 1 of 1: p = 1/26');
      t.regex(o.test, /Fisher's exact test, two-sided; a FINDING when p < 1 % \/ K over the run's comparisons \(Tarone's modified Bonferroni\); intervals: Clopper–Pearson/);
      const r = { ...sampleReport(), observations: o };
      t.deepEqual(validateReport(JSON.parse(JSON.stringify(r))), []);
      const md = renderMarkdown(r);
      const none = '0/25 corrupted (95 % CI 0–14 %)';
      t.true(md.includes(`- msg-zerocopy-reuse (loopback): ${none}; baseline 20/25 corrupted (95 % CI 59–93 %); `));
      t.regex(md, /; p = [0-9.e-]+: \*\*FINDING\*\*$/m);
      t.true(md.includes(`- io-uring-zc-reuse (loopback): ${none}; baseline 1/1 corrupted (95 % CI 2.5–100 %) `));
      t.true(md.includes('(a single outcome); p = 0.038: consistent with the baseline\n'));
      const html = renderHtml(r);
      t.regex(html, /<tr class="finding"><td><code>msg-zerocopy-reuse<\/code>/);
      // The finding also opens the report, above the recommendation table.
      const main = html.slice(html.indexOf('<main>'));
      t.true(main.indexOf('id="findings"') >= 0 && main.indexOf('id="findings"') < main.indexOf('id="recommendations"'));
      t.true(md.indexOf('### Findings (1)') < md.indexOf('### What to do'));
      t.is(loadObservations(join(dir, 'none.jsonl')), null);
    },
  );
});

test('a contract contradiction is the first finding, before an observation that differs', (t) => {
  const r = sampleReport();
  // Make the sample's msg-zerocopy × zc-completion × loopback cell corrupted: a documented safe point failed.
  const cells = r.cells.map((c) =>
    c.method === 'msg-zerocopy' && c.safeguard === 'zc-completion' && c.transport === 'loopback'
      ? {
        ...c, verdict: 'corrupted-on-wire' as const, corruptedCases: 1,
        counts: { ...c.counts, clean: c.cases - 1, 'corrupted-on-wire': 1 }, headline: `1/${c.cases} corrupted (1 on wire)`,
      }
      : c,
  );
  const report = { ...r, cells, recommendations: buildRecommendations(cells, r.cost, r.counterexamples) };
  t.is(report.recommendations.contradictions.length, 1);
  withFile([line('msg-zerocopy-reuse', 0, 25)], (file) => {
    const withObs = { ...report, observations: loadObservations(file, () => baseline, REL)! };
    t.deepEqual(validateReport(JSON.parse(JSON.stringify(withObs))), []);
    const html = renderHtml(withObs);
    const findings = html.slice(html.indexOf('id="findings"'), html.indexOf('id="recommendations"'));
    t.regex(findings, /Findings \(2\)/);
    const contract = findings.indexOf('FINDING: msg-zerocopy (transport loopback): the zero-copy completion, after which the API');
    const observation = findings.indexOf('FINDING: msg-zerocopy-reuse on');
    t.true(contract >= 0 && observation > contract, 'the contract first, then the observation');
    const md = renderMarkdown(withObs);
    t.regex(md, /^### Findings \(2\)\n\n- \*\*FINDING: msg-zerocopy \(transport loopback\): the zero-copy completion/m);
    t.true(md.indexOf('FINDING: msg-zerocopy (transport') < md.indexOf('FINDING: msg-zerocopy-reuse on'));
  });
});
