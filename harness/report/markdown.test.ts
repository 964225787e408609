// report.md: the recommendation table first, one narrow matrix table per transport, and every
// string literal in Markdown — no HTML entity, no stray table border, nothing read as markup.
import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { mdEscape, renderMarkdown } from './markdown.ts';
import type { Report } from './types.ts';

/** CommonMark: a backslash before ASCII punctuation stands for that character. */
const unescape = (s: string) => s.replace(/\\([!-/:-@[-`{-~])/g, '$1');
/** What Markdown parses as syntax: escaped pairs ("\\|", "\\\\") and code spans (literal) removed. */
const bare = (md: string) => md.replace(/\\[\s\S]/g, '_').replace(/`[^`\n]*`/g, '_');
/** An HTML entity Markdown would decode. */
const ENTITY = /&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);/;
const hasEntity = (md: string) => ENTITY.test(bare(md));
/** GFM splits a table row at every pipe that is not part of an escaped pair. */
const columns = (line: string) => bare(line).split('|').length - 2;
/** The cells of a table row, split where GFM splits them. */
const cellsOf = (line: string) => {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') cur += line[i]! + (line[++i] ?? '');
    else if (line[i] === '|') {
      out.push(cur);
      cur = '';
    }
    else cur += line[i];
  }
  out.push(cur);
  return out.slice(1, -1);
};

function tables(md: string): { heading: string; lines: string[] }[] {
  const out: { heading: string; lines: string[] }[] = [];
  let heading = '';
  let current: string[] | null = null;
  for (const line of md.split('\n')) {
    if (line.startsWith('#')) heading = line;
    if (line.startsWith('|')) {
      if (!current) out.push({ heading, lines: (current = []) });
      current.push(line);
    } else current = null;
  }
  return out;
}

test('mdEscape: any text comes back unchanged from Markdown, with no entity, tag or unescaped pipe', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[-<>&|*_`[\]~\\#;a-z0-9 ]*$/)), (s) => {
      const md = mdEscape(s);
      assert.equal(unescape(md), s.replace(/[\r\n]+/g, ' '));
      assert.ok(!hasEntity(md), md);
      assert.ok(!/<[A-Za-z/!?]/.test(bare(md)), md);
      assert.equal(columns(`|${md}|`), 1, md);
    }),
  );
  t.is(mdEscape('veth pair zcp0 -> zcp1'), 'veth pair zcp0 -> zcp1', 'no -&gt;');
  t.is(mdEscape('io_uring_setup: _x_ a|b <b>'), 'io_uring_setup: \\_x\\_ a\\|b \\<b>');
});

test('every string of the report reaches report.md literally: arrows, tags, ampersands and pipes everywhere', (t) => {
  const NASTY = ' a->b <i>x</i> & y &amp; |z| *w*';
  // Every free-text string gets the suffix; names that key lookups (verdicts) stay valid.
  const KEEP = new Set(['verdict', 'state', 'status', 'holds', 'schemaVersion']);
  const taint = (v: unknown, key = ''): unknown => {
    if (typeof v === 'string') return KEEP.has(key) ? v : v + NASTY;
    if (Array.isArray(v)) return v.map((x) => taint(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, taint(x, k)]));
    return v;
  };
  const r = taint(sampleReport()) as Report;
  const md = renderMarkdown(r);
  t.false(hasEntity(md), `no HTML entity: ${ENTITY.exec(bare(md))?.[0]}`);
  t.false(md.includes('-&gt;') || md.includes('&lt;'));
  t.true(md.includes('a->b \\<i>x\\</i> & y \\&amp; \\|z\\| \\*w\\*'));
  t.true(md.includes(`**Transports:** loopback${mdEscape(NASTY)} (`), 'the transports line, where -&gt; used to leak');
  for (const { lines } of tables(md)) {
    const n = columns(lines[0]!);
    for (const l of lines) t.is(columns(l), n, l);
  }
});

test('report.md opens with the recommendation table, then the host, then one three-column matrix per transport', (t) => {
  const r = sampleReport();
  const md = renderMarkdown(r);
  const all = tables(md);
  t.is(all[0]!.heading, '### What to do after each send method');
  t.regex(all[0]!.lines[0]!, /^\| method \| transport \| what the evidence supports \| cheapest safeguard that held \| did not hold \|$/);
  t.true(md.indexOf('### What to do') < md.indexOf('### Host'), 'recommendations before the host');
  t.is(all[0]!.lines.length, 2 + r.recommendations.rows.length);
  const sendfile = all[0]!.lines.find((l) => l.startsWith('| sendfile | loopback |'))!;
  t.true(sendfile.includes("after sendfile, wait for the receiver's ack (app-ack) or hold a lease on the file until the receiver's ack (lease)"));
  t.true(sendfile.includes('**app-ack** — 0.35× write(); 12/12 clean; rate ≤\u00a022\u00a0% at 95\u00a0%'));
  t.regex(sendfile, /🔴 none: 12\/12 corrupted \(4 on wire, 8 after wire\) \(counterexample 1\)/);
  t.regex(md, /rule of three/);
  t.regex(md, /npm start -- --repeats 20 \(≤\u00a05\u00a0%\)/);
  const matrices = all.slice(1);
  t.deepEqual(matrices.map((m) => m.heading), r.transports.map((x) => `#### ${x.name}`));
  for (const m of matrices) {
    t.is(m.lines[0], '| method | safeguard | result |');
    for (const l of m.lines) t.is(columns(l), 3, l);
  }
  t.regex(md, /^\| \*\*sendfile\*\* \| none \| 🔴 12\/12 corrupted \(4 on wire, 8 after wire\) \(counterexample 1\) \|$/m);
  t.regex(md, /^\| {2}\| siocoutq \| 🟠 12\/12 corrupted \(12 after wire\) \|$/m);
  t.regex(md, /^\| {2}\| siocoutqnsd \| 🟡 1\/12 corrupted \(1 on retransmit\); 1\/4 at 1 MiB read 50 ms late \|$/m);
  t.regex(md, /🟢 12\/12 clean; rate ≤\u00a022\u00a0% at 95\u00a0%/);
  t.regex(md, /⚪ 11\/12 clean, 1 inconclusive; rate ≤\u00a024\u00a0% at 95\u00a0% — tcpdump reported 3 packet\(s\) dropped by the kernel/);
  t.regex(md, /\*\*corrupted-on-retransmit\*\*: the first transmission carried the intended bytes/);
  t.regex(md, /^1\. 🔴 sendfile × none × loopback, .*`npx zcprobe run --replay sendfile-pwrite:1794328523:3:0:1:1/m);
});

test('report.md fits GitHub without a horizontal scroll: estimated min-content width of every table ≤ 800 px', (t) => {
  // GitHub wraps table cells at spaces; a column can get no narrower than its longest word. At
  // 14 px a character is at most ~9 px wide (bold, wide glyphs), plus 26 px of cell padding.
  const minWidth = (lines: string[]) => {
    const cells = lines.filter((l) => !/^\|[-|]+\|$/.test(l)).map(cellsOf);
    const widest = cells[0]!.map((_, i) => Math.max(...cells.map((c) => Math.max(...unescape(c[i] ?? '').replace(/\*\*/g, '').split(/[ \t]+/).map((w) => [...w].length)))));
    return widest.reduce((sum, chars) => sum + chars * 9 + 26, 0);
  };
  for (const { heading, lines } of tables(renderMarkdown(sampleReport()))) {
    t.log(`${heading}: ${minWidth(lines)} px`);
    t.true(minWidth(lines) <= 800, `${heading}: ${minWidth(lines)} px`);
  }
  // The old single matrix (method + 16 safeguard × transport columns) would not have fitted.
  const wide = ['| method |' + ' corrupted-after-wire |'.repeat(16)];
  t.true(minWidth(wide) > 800);
});

test('report.md shows report.json: headlines, rules and bounds are read from it, never recomputed', (t) => {
  const r = structuredClone(sampleReport());
  r.cells[0]!.headline = '7/7 marker headline';
  r.recommendations.rows[0]!.rule = 'marker rule from report.json';
  r.recommendations.rows[0]!.held[0]!.headline = 'marker bound';
  const md = renderMarkdown(r);
  t.true(md.includes('7/7 marker headline'));
  t.true(md.includes('marker rule from report.json'));
  t.true(md.includes('marker bound'));
});
