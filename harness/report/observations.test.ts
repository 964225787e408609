// The report shows the last test run's observations against the baseline, findings first.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baseline } from '../model/baselines.ts';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { loadObservations } from './observations.ts';
import { validateReport } from './validate.ts';

const REL = '6.18.44-test';
const baseline: Baseline = {
  kernel: '6.18.44-fc-v857', transport: 'loopback', writtenAt: '2026-11-30T00:00:00Z',
  observations: { 'msg-zerocopy-reuse': { statement: 's', outcome: 'falsified' }, 'splice-ftruncate': { statement: 's', outcome: 'clean 6/6' } },
};

test('observations: a differing outcome is a finding, listed first, in JSON, HTML and Markdown', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-obs-'));
  try {
    const file = join(dir, `${REL}.jsonl`);
    const lines = [
      { id: 'splice-ftruncate', statement: 's', outcome: 'clean 6/6', transport: 'loopback' },
      { id: 'msg-zerocopy-reuse', statement: 's', outcome: 'falsified', transport: 'loopback' },
      { id: 'msg-zerocopy-reuse', statement: 's', outcome: 'held', transport: 'loopback' }, // the last one counts
      { id: 'siocoutq-vmsplice-veth', statement: 's', outcome: '3/3 corrupted', transport: 'veth' },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const o = loadObservations(file, (tr) => (tr === 'loopback' ? baseline : undefined), REL);
    if (!o) return t.fail('no observations loaded');
    t.deepEqual(o.rows.map((r) => [r.id, r.status]), [['msg-zerocopy-reuse', 'differs'], ['siocoutq-vmsplice-veth', 'no-baseline'], ['splice-ftruncate', 'same']]);
    t.regex(o.rows[0]!.line, /^FINDING: msg-zerocopy-reuse/);
    const r = { ...sampleReport(), observations: o };
    t.deepEqual(validateReport(JSON.parse(JSON.stringify(r))), []);
    t.regex(renderMarkdown(r), /\| msg-zerocopy-reuse \| loopback \| held \| falsified \| \*\*FINDING\*\* \|/);
    t.regex(renderHtml(r), /<tr class="finding"><td><code>msg-zerocopy-reuse<\/code>/);
    t.is(loadObservations(join(dir, 'none.jsonl')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
