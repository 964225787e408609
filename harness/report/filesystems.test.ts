// The report's filesystem section: cells built from cases (verdict counts, where the receiver's
// bytes were not old, skipped mutations with their reason), valid against the schema, rendered in
// Markdown and HTML with the mutation named in every row and one column per filesystem.
import test from 'ava';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { buildFsSection, fsHtml, fsMarkdown, type FsCaseLike } from './filesystems.ts';
import { renderHtml } from './html.ts';
import { mdEscape, renderMarkdown } from './markdown.ts';
import { esc } from './svg.ts';
import { validateReport } from './validate.ts';

const facts = (fs: string, type = fs) => ({ fs, type, mountOptions: 'rw,relatime', superOptions: 'rw', blockSize: 4096 });
const ranges = (...r: [string, number, number][]) => ({ classes: { ranges: r.map(([cls, start, end]) => ({ class: cls, start, end })) } });
let n = 0;
const kase = (fs: string, mutation: string, verdict: FsCaseLike['verdict'], received: FsCaseLike['received']): FsCaseLike => ({
  id: `c${++n}`, method: 'sendfile', mutation, safeguard: 'none', verdict, reasons: [], filesystem: facts(fs), received,
});

const CASES: FsCaseLike[] = [
  kase('tmpfs', 'truncate:600000', 'corrupted-on-wire', ranges(['old', 0, 600000], ['zero', 600000, 602112], ['old', 602112, 1048576])),
  kase('tmpfs', 'truncate:600000', 'corrupted-on-wire', ranges(['old', 0, 600000], ['zero', 600000, 602112], ['old', 602112, 1048576])),
  kase('ext4', 'truncate:600000', 'corrupted-on-wire', ranges(['old', 0, 600000], ['zero', 600000, 1048576])),
  kase('ext4', 'truncate:600000', 'clean', ranges(['old', 0, 1048576])),
  kase('ext4', 'rename-replace', 'clean', ranges(['old', 0, 1048576])),
];
const SKIPPED = [{ fs: 'ext4', method: 'sendfile', mutation: 'reflink-then-write', safeguard: 'none', reason: 'reflink-then-write: ioctl(FICLONE): EOPNOTSUPP' }];

test('cells: counts, the strongest verdict, where bytes changed, skips with their reason', (t) => {
  const s = buildFsSection(CASES, SKIPPED);
  t.deepEqual(s.facts.map((f) => f.fs), ['tmpfs', 'ext4']);
  const cell = (fs: string, m: string) => s.cells.find((c) => c.fs === fs && c.mutation === m)!;
  t.deepEqual(cell('tmpfs', 'truncate:600000').received, [{ shape: 'zero [600000,602112)', cases: 2 }]);
  const ext4 = cell('ext4', 'truncate:600000');
  t.is(ext4.verdict, 'corrupted-on-wire');
  t.deepEqual(ext4.counts, { 'corrupted-on-wire': 1, clean: 1 });
  t.deepEqual(ext4.received, [{ shape: 'zero [600000,1048576)', cases: 1 }, { shape: 'old', cases: 1 }]);
  t.is(cell('ext4', 'rename-replace').verdict, 'clean');
  const skip = cell('ext4', 'reflink-then-write');
  t.is(skip.verdict, 'skipped');
  t.deepEqual(skip.reasons, [SKIPPED[0]!.reason]);
});

test('a report with the section validates and renders one column per filesystem, the mutation in each row', (t) => {
  const report = { ...sampleReport(), filesystems: buildFsSection(CASES, SKIPPED) };
  t.deepEqual(validateReport(report), []);
  const md = fsMarkdown(report.filesystems, mdEscape).join('\n');
  t.regex(md, /\| method · mutation \| tmpfs \| ext4 \|/);
  t.regex(md, /\| sendfile · truncate:600000 \| 2\/2 corrupted-on-wire — 2× zero \\\[600000,602112\) \| 1\/2 corrupted-on-wire — 1× zero \\\[600000,1048576\) \|/);
  t.regex(md, /skipped: reflink-then-write: ioctl\(FICLONE\): EOPNOTSUPP/);
  t.true(renderMarkdown(report).includes(md.trim()));
  const html = fsHtml(report.filesystems, esc);
  t.regex(html, /<th>sendfile · rename-replace<\/th><td>n\/a<\/td><td>1\/1 clean<\/td>/);
  t.true(renderHtml(report).includes('id="filesystems"'));
  t.is(fsMarkdown(undefined, mdEscape).length, 0, 'no section when the part did not run');
  const bad = { ...report, filesystems: { ...report.filesystems, cells: [{ ...report.filesystems.cells[0]!, verdict: 'fine' }] } };
  t.true(validateReport(bad).some((e) => e.path.startsWith('/filesystems/cells/0/verdict')));
});
