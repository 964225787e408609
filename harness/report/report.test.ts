// The report renderer: cell verdict rules, the schema and its validator, the Markdown table, the
// HTML's safety (escaping, no URL), and — when chromium is installed — that a real browser
// renders the page with its matrix and counterexamples.
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { CaseReport } from '../verdict/case-report.ts';
import { decideVerdict, type Mismatch } from '../verdict/verdict.ts';
import { sampleReport } from '../../test-support/report-fixture.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { buildMatrixCells, cellVerdict, type CaseLike } from './cells.ts';
import { VERDICTS, type Report } from './types.ts';
import { assertValidReport, SchemaError, validate, validateReport } from './validate.ts';
import { writeReport } from './write.ts';

const run = promisify(execFile);
// Compile-time: a CaseReport is a CaseLike, so the matrix can be built from `zcprobe run` output as is.
export const caseReportIsCaseLike = (c: CaseReport): CaseLike => c;
const clone = (): Report => structuredClone(sampleReport());
const DROPPED = 'tcpdump reported 3 packet(s) dropped by the kernel';

test('cellVerdict: any corrupted case decides, the worst kind first', (t) => {
  t.is(cellVerdict({ clean: 11, 'corrupted-after-wire': 1 }, []), 'corrupted-after-wire');
  t.is(cellVerdict({ 'corrupted-after-wire': 8, 'corrupted-on-wire': 4 }, []), 'corrupted-on-wire');
  t.is(cellVerdict({ 'corrupted-on-wire': 1, inconclusive: 11 }, [DROPPED]), 'corrupted-on-wire');
  t.is(cellVerdict({ corrupted: 2, clean: 10 }, []), 'corrupted');
  // A differing retransmission proves the kernel read changed pages, but the receiver read
  // wrong bytes in the other kinds: they colour the cell first.
  t.is(cellVerdict({ 'corrupted-on-retransmit': 3, 'corrupted-after-wire': 1 }, []), 'corrupted-after-wire');
  t.is(cellVerdict({ 'corrupted-on-retransmit': 1, clean: 5 }, []), 'corrupted-on-retransmit');
});

test('cellVerdict: dropped packets → inconclusive, never clean', (t) => {
  t.is(cellVerdict({ clean: 11, inconclusive: 1 }, [DROPPED]), 'inconclusive');
  // Even if every case was counted clean, a reason recorded against the cell withholds "clean".
  t.is(cellVerdict({ clean: 12 }, [DROPPED]), 'inconclusive');
  t.is(cellVerdict({ inconclusive: 12 }, []), 'inconclusive');
});

test('cellVerdict: clean only when every case is clean and nothing is in doubt; empty is not clean', (t) => {
  t.is(cellVerdict({ clean: 12 }, []), 'clean');
  t.is(cellVerdict({}, []), 'inconclusive');
  t.is(cellVerdict({ clean: 0 }, []), 'inconclusive');
  t.is(cellVerdict({ skipped: 1 }, ['io_uring disabled']), 'skipped');
});

const mismatch = (n = 0): Mismatch => ({
  mismatchedBytes: n, firstOffset: n ? 0 : null, lastOffset: n ? n - 1 : null, equalsMutation: n, zero: 0, other: 0, lengthDelta: 0,
});
const kase = (id: string, method: string, safeguard: string, transport: string, v: { verdict: CaseLike['verdict']; reasons: string[] }): CaseLike => ({
  id, method, safeguard, transport, size: 65536, verdict: v.verdict, reasons: v.reasons, received: { bytes: 65536 },
});

test('buildMatrixCells: a capture that dropped packets makes the cell inconclusive (through the real decideVerdict)', (t) => {
  const clean = decideVerdict(mismatch(), { mismatch: mismatch(), complete: true, conflicts: [], droppedByKernel: 0, integrity: [] }, []);
  const dropped = decideVerdict(mismatch(), { mismatch: mismatch(), complete: true, conflicts: [], droppedByKernel: 3, integrity: [] }, []);
  t.is(dropped.verdict, 'inconclusive');
  const cases = [...Array.from({ length: 11 }, (_, i) => kase(`c${i}`, 'write', 'none', 'veth', clean)), kase('c11', 'write', 'none', 'veth', dropped)];
  const [cell] = buildMatrixCells(cases);
  t.is(cell!.verdict, 'inconclusive');
  t.deepEqual(cell!.counts, { clean: 11, inconclusive: 1 });
  t.deepEqual(cell!.reasons, [DROPPED]);
});

test('buildMatrixCells: groups per method × safeguard × transport in canonical order, sums bytes, counts repeated reasons', (t) => {
  const bad = { verdict: 'corrupted-on-wire' as const, reasons: [] };
  const ok = { verdict: 'clean' as const, reasons: [] };
  const gap = { verdict: 'inconclusive' as const, reasons: ['gap'] };
  const cells = buildMatrixCells(
    [kase('a', 'vmsplice', 'none', 'veth', bad), kase('b', 'write', 'none', 'loopback', ok), kase('c', 'vmsplice', 'none', 'veth', ok), kase('d', 'vmsplice', 'none', 'loopback', gap), kase('e', 'vmsplice', 'none', 'loopback', gap), kase('f', 'vmsplice', 'none', 'veth', bad)],
    [{ method: 'io-uring-zc', safeguard: 'none', transport: 'veth', reason: 'EPERM' }],
  );
  t.deepEqual(cells.map((c) => `${c.method}/${c.safeguard}/${c.transport}=${c.verdict}`), [
    'write/none/loopback=clean',
    'vmsplice/none/loopback=inconclusive',
    'vmsplice/none/veth=corrupted-on-wire',
    'io-uring-zc/none/veth=skipped',
  ]);
  const veth = cells[2]!;
  t.is(veth.cases, 3);
  t.is(veth.bytes, 3 * 65536);
  t.deepEqual(veth.counterexampleIds, ['a', 'f']);
  t.deepEqual(cells[1]!.reasons, ['2× gap']);
  t.deepEqual(cells[3]!.reasons, ['EPERM']);
  t.is(cells[3]!.cases, 0);
});

test('the fixture validates against schema/report.schema.json, also after a JSON round trip', (t) => {
  const r = sampleReport();
  t.deepEqual(validateReport(r), []);
  t.deepEqual(validateReport(JSON.parse(JSON.stringify(r))), []);
  const verdicts = new Set(r.cells.map((c) => c.verdict));
  for (const v of VERDICTS) t.true(verdicts.has(v), `fixture has a ${v} cell`);
  t.is(r.counterexamples.length, 2);
});

test('invalid reports fail with the path of the offending value', (t) => {
  const cases: [string, (r: any) => void, string, RegExp][] = [
    ['missing property', (r) => delete r.host.kernel, '/host/kernel', /missing required property "kernel"/],
    ['unknown verdict', (r) => (r.cells[3].verdict = 'fine'), '/cells/3/verdict', /must be one of/],
    ['extra property', (r) => (r.extra = 1), '/extra', /unexpected property/],
    ['negative count', (r) => (r.cells[0].counts.clean = -1), '/cells/0/counts/clean', /≥ 0/],
    ['string for integer', (r) => (r.host.cpus = '8'), '/host/cpus', /must be integer, got string/],
    ['wrong type through $ref', (r) => (r.counterexamples[1].hexDiff.wire = 5), '/counterexamples/1/hexDiff/wire', /must be string or null/],
    ['offload value', (r) => (r.host.offloads.lo['scatter-gather'] = true), '/host/offloads/lo/scatter-gather', /must be string/],
    ['schema version', (r) => (r.schemaVersion = 1), '/schemaVersion', /one of 3/],
    ['bound of a cell', (r) => (r.cells[0].upperBound95 = -0.1), '/cells/0/upperBound95', /≥ 0/],
    ['recommendation scope', (r) => (r.recommendations.rows[0].scope.method = 3), '/recommendations/rows/0/scope/method', /must be string/],
    ['unknown unproven state', (r) => (r.recommendations.rows[1].unproven[0].state = 'maybe'), '/recommendations/rows/1/unproven/0/state', /must be one of/],
    ['NaN is not JSON', (r) => (r.cost[0].ratioVsCopy = NaN), '/cost/0/ratioVsCopy', /must be number/],
  ];
  for (const [what, mutate, path, message] of cases) {
    const r = clone();
    mutate(r);
    const errors = validateReport(r);
    t.true(errors.some((e) => e.path === path && message.test(e.message)), `${what}: ${JSON.stringify(errors)}`);
    t.throws(() => assertValidReport(r), { message: new RegExp(path.replace(/[/-]/g, '\\$&')) }, what);
  }
});

test('the validator refuses schema keywords it does not check and dangling $refs', (t) => {
  t.throws(() => validate({ type: 'string', pattern: '^a' }, 'a'), { instanceOf: SchemaError, message: /pattern/ });
  t.throws(() => validate({ $ref: '#/$defs/nope' }, 1), { instanceOf: SchemaError });
  t.deepEqual(validate({ type: 'array', items: { enum: [1, 2] } }, [1, 3]), [{ path: '/1', message: 'must be one of 1, 2, got 3' }]);
});

test('html: self-contained — no http:// or https:// anywhere, no script, CSP forbids external loads', (t) => {
  const html = renderHtml(sampleReport());
  t.false(/https?:\/\//i.test(html), 'no URL');
  t.false(/<script/i.test(html));
  t.regex(html, /Content-Security-Policy" content="default-src 'none'/);
  t.false(/\b(src|href)="(?!#|evidence\/)/.test(html), 'only in-page anchors and relative evidence links');
});

test('html: text is escaped everywhere, including tooltips and evidence paths', (t) => {
  const r = clone();
  r.notes.push('<script>alert(1)</script>');
  r.cells[1]!.reasons = ['" onmouseover="alert(1)'];
  r.cells[1]!.verdict = 'inconclusive';
  r.transports[0]!.describe = '<img src=x onerror=alert(1)>';
  r.counterexamples[0]!.pcap = 'javascript:alert(1)';
  r.counterexamples[0]!.caseId = 'x"><script>';
  const html = renderHtml(r);
  t.false(/<script/i.test(html));
  t.false(html.includes('<img'));
  t.false(html.includes('" onmouseover='));
  t.false(html.includes('href="javascript:'));
  t.true(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
});

test('html: matrix table, legend, chart, one section per counterexample, every in-page link resolves', (t) => {
  const r = sampleReport();
  const html = renderHtml(r);
  t.regex(html, /<table class="matrix"/);
  t.is(html.match(/<section class="counterexample"/g)?.length, 2);
  t.is(html.match(/<svg class="timeline"/g)?.length, 2);
  t.is(html.match(/<svg class="chart"/g)?.length, 1);
  t.regex(html, /corrupted-after-wire<\/b>: the wire carried the intended bytes/);
  t.regex(html, /<span class="n">12\/12<\/span> <span class="v">corrupted \(12 after wire\)<\/span>/);
  t.regex(html, /<span class="n">12\/12<\/span> <span class="v">corrupted \(4 on wire, 8 after wire\)<\/span>/);
  t.regex(html, /<span class="n">1\/12<\/span> <span class="v">corrupted \(1 on retransmit\); 1\/4 at 1 MiB read 50 ms late<\/span>/);
  t.regex(html, /<span class="n">12\/12<\/span> <span class="v">clean; rate ≤\u00a022\u00a0% at 95\u00a0%<\/span>/);
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  const links = [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]!);
  t.true(links.length >= 2);
  for (const l of links) t.true(ids.has(l), `#${l} exists`);
  t.regex(html, /href="#cx-[^"]+"[^]*?<section class="counterexample" id="cx-/);
  t.regex(html, /<a href="evidence\/case-12846-\d+\/case\.pcap">/);
});

test('html: the recommendation table comes first; a failed safeguard links to its counterexample', (t) => {
  const r = sampleReport();
  const html = renderHtml(r);
  const main = html.slice(html.indexOf('<main>'));
  t.true(main.indexOf('<table') === main.indexOf('<table class="recs"'), 'the first table is the recommendation table');
  t.true(main.indexOf('id="recommendations"') < main.indexOf('id="host"'));
  t.true(main.indexOf('id="host"') < main.indexOf('<table class="matrix"'));
  t.is(main.match(/<tr class="(group )?(held|none-held)">/g)?.length, r.recommendations.rows.length);
  const sendfile = /<tr class="group held"><th class="method" rowspan="2">sendfile<\/th><td class="dim">loopback<\/td>(.*?)<\/tr>/.exec(main)?.[1] ?? '';
  t.regex(sendfile, /<td class="rule">after sendfile, wait for the receiver&#39;s ack \(app-ack\) or hold a lease/);
  t.regex(sendfile, /<span class="badge"[^>]*>app-ack<\/span><span class="cost"[^>]*>0\.35× write\(\)<\/span><span class="bound">12\/12 clean; rate ≤\u00a022\u00a0% at 95\u00a0%<\/span>/);
  const anchor = `cx-${r.counterexamples[0]!.caseId}`;
  t.regex(sendfile, new RegExp(`<a href="#${anchor}"><b style="color:#c0271d">none</b> 12/12 corrupted \\(4 on wire, 8 after wire\\)</a>`));
  t.regex(main, /rule of three/);
  t.true(
    main.includes(
      '<tr class="none-held"><td class="dim">veth</td><td class="rule">' +
        'after io-uring-zc, the API requires the notification CQE (F_NOTIF); no safeguard that waits for it held here (6 skipped); ' +
        'documented: &#34;The user must not modify the data buffer until the notification is posted.&#34; ' +
        '(io_uring_enter(2), IORING_OP_SEND_ZC).</td>' +
        '<td class="use"><span class="none-held">none held that the API allows (it requires the notification CQE (F_NOTIF))</span>',
    ),
  );
  t.false(main.includes('id="findings"'), 'no finding in the sample: no findings section');
});

test('html shows report.json: headlines, rules and bounds are read from it, never recomputed', (t) => {
  const r = clone();
  r.cells[0]!.headline = '7/7 marker headline';
  r.recommendations.rows[0]!.rule = 'marker rule from report.json';
  r.recommendations.rows[0]!.held[0]!.headline = 'marker bound';
  const html = renderHtml(r);
  t.true(html.includes('<span class="n">7/7</span> <span class="v">marker headline</span>'));
  t.true(html.includes('<td class="rule">marker rule from report.json</td>'));
  t.true(html.includes('<span class="bound">marker bound</span>'));
});

test('writeReport writes report.json, report.html, report.md and refuses an invalid report', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-report-'));
  try {
    const r = sampleReport();
    const paths = writeReport(join(dir, 'out'), r);
    t.deepEqual(paths, { json: join(dir, 'out', 'report.json'), html: join(dir, 'out', 'report.html'), md: join(dir, 'out', 'report.md') });
    t.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), r);
    t.true(readFileSync(paths.html, 'utf8').startsWith('<!doctype html>'));
    t.regex(readFileSync(paths.md, 'utf8'), /\| method \|/);
    const bad = clone() as any;
    delete bad.cells;
    t.throws(() => writeReport(join(dir, 'bad'), bad), { message: /missing required property "cells"/ });
    t.false(existsSync(join(dir, 'bad', 'report.html')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty run still validates and renders (no cells, no counterexamples, no benchmark)', (t) => {
  const r: Report = { ...sampleReport(), cells: [], counterexamples: [], cost: [], notes: [], transports: [] };
  r.host = { ...r.host, offloads: {} };
  t.deepEqual(validateReport(r), []);
  const html = renderHtml(r);
  t.regex(html, /The matrix has no cells/);
  t.regex(html, /None: no case was corrupted/);
  t.regex(renderMarkdown(r), /_The matrix has no cells\._/);
});

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const browserTest = hasChromium ? test : test.skip;
const noChromium = hasChromium ? '' : ' — chromium not installed: apt-get install chromium';
/** No network, no profile state, no sandbox (tests may run as root in a container). */
const chromiumArgs = (profile: string) => ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--window-size=1280,2000'];

/**
 * Measures, in the browser, every cell of the recommendation table and the matrix at the window's
 * width: content wider than its cell (scrollWidth, or a child box past the cell's edges), a table
 * wider than <main>, or a page that scrolls sideways. The report itself has no script (its CSP
 * forbids one), so the test serves a copy without the CSP and with this script appended.
 */
const LAYOUT_CHECK = `<script>
const bad = [];
const where = (el) => el.closest('tr')?.innerText.split('\\n')[0].slice(0, 40) + ' / ' + el.innerText.slice(0, 60);
const cells = [...document.querySelectorAll('table.recs th, table.recs td, table.matrix th, table.matrix td')];
for (const cell of cells) {
  if (cell.scrollWidth > cell.clientWidth + 1) bad.push('scrollWidth ' + cell.scrollWidth + ' > ' + cell.clientWidth + ': ' + where(cell));
  const box = cell.getBoundingClientRect();
  for (const el of cell.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > box.right + 1 || r.left < box.left - 1)) bad.push('child past the cell edge: ' + where(cell));
  }
}
const main = document.querySelector('main').getBoundingClientRect();
for (const t of document.querySelectorAll('table.recs, table.matrix')) if (t.getBoundingClientRect().right > main.right + 1) bad.push('table wider than main: ' + t.className);
if (document.documentElement.scrollWidth > innerWidth) bad.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
const out = document.createElement('pre');
out.id = 'layout-check';
out.textContent = JSON.stringify({ width: innerWidth, cells: cells.length, bad: [...new Set(bad)] });
document.body.append(out);
</script>`;

async function layoutCheck(html: string, dir: string, extraCss = ''): Promise<{ width: number; cells: number; bad: string[] }> {
  const page = join(dir, `check-${extraCss ? 'control' : 'report'}.html`);
  const probe = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</style>', `${extraCss}</style>`).replace('</body>', `${LAYOUT_CHECK}</body>`);
  writeFileSync(page, probe);
  const { stdout } = await run(CHROMIUM, [...chromiumArgs(join(dir, 'profile')), '--dump-dom', pathToFileURL(page).href], { timeout: 90_000, maxBuffer: 64 << 20 });
  const m = /<pre id="layout-check">(.*?)<\/pre>/s.exec(stdout);
  if (!m) throw new Error('the layout check did not run');
  return JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

browserTest(`a real browser renders the report: recommendation table first, headlines, matrix, counterexamples, 1280 px screenshot${noChromium}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-browser-'));
  try {
    const r = sampleReport();
    const { html } = writeReport(join(dir, 'report'), r);
    const url = pathToFileURL(html).href;
    const { stdout: dom } = await run(CHROMIUM, [...chromiumArgs(join(dir, 'profile')), '--dump-dom', url], { timeout: 90_000, maxBuffer: 64 << 20 });
    const body = dom.slice(dom.indexOf('<main>'));
    t.true(body.indexOf('<table') === body.indexOf('<table class="recs"'), 'the recommendation table is the first table');
    t.is(body.match(/<td class="rule">/g)?.length, r.recommendations.rows.length, 'one row per method × transport');
    t.regex(body, /<td class="rule">after sendfile, wait for the receiver's ack \(app-ack\) or hold a lease on the file until the receiver's ack \(lease\);/);
    t.regex(body, /<span class="n">12\/12<\/span> <span class="v">corrupted \(4 on wire, 8 after wire\)<\/span>/, 'a mixed cell counts every corrupted case');
    t.regex(body, /<span class="n">12\/12<\/span> <span class="v">clean; rate ≤&nbsp;22&nbsp;% at 95&nbsp;%<\/span>/, 'a clean cell states its bound');
    t.regex(body, /<span class="n">1\/12<\/span> <span class="v">corrupted \(1 on retransmit\); 1\/4 at 1 MiB read 50 ms late<\/span>/);
    t.regex(dom, /<table class="matrix"/);
    t.true((dom.match(/<section class="counterexample"/g)?.length ?? 0) >= 1);
    t.regex(dom, /<svg class="timeline"/, 'inline SVG survives parsing');

    const layout = await layoutCheck(readFileSync(html, 'utf8'), dir);
    t.is(layout.width, 1280);
    t.true(layout.cells > 200, `${layout.cells} cells measured`);
    t.deepEqual(layout.bad, [], 'no cell content overflows at 1280 px');
    // The check can fail: forbid wrapping in the matrix and the long headlines must spill.
    const control = await layoutCheck(readFileSync(html, 'utf8'), dir, 'table.matrix td, table.matrix td * { white-space: nowrap !important; }');
    t.true(control.bad.some((b) => b.startsWith('scrollWidth') && b.includes('corrupted (4 on wire')), `the negative control overflows: ${control.bad.slice(0, 2).join('; ')}`);

    const png = join(dir, 'report.png');
    await run(CHROMIUM, [...chromiumArgs(join(dir, 'profile')), `--screenshot=${png}`, url], { timeout: 90_000 });
    t.true(existsSync(png) && statSync(png).size > 10_000, 'screenshot written');
    const head = readFileSync(png).subarray(0, 24);
    t.is(head.subarray(1, 4).toString('latin1'), 'PNG');
    t.is(head.readUInt32BE(16), 1280, 'PNG is 1280 px wide');
    // ZCPROBE_REPORT_SCREENSHOT=/tmp/x.png keeps the screenshot for a human to look at.
    if (process.env.ZCPROBE_REPORT_SCREENSHOT) copyFileSync(png, process.env.ZCPROBE_REPORT_SCREENSHOT);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('tun: a transport line says who owns the pages the receiver reads; link events get timeline lanes; both validate', (t) => {
  const r = clone();
  r.transports.push({ name: 'tun', describe: 'tun zcprobe-1-0s/zct1a0 -> zcrelay -> zcprobe-1-0r/zct1b0', pageOwnership: 'tun: the relay copies every packet, so the receiving kernel reads its own copy' });
  r.counterexamples[0]!.timeline.linkEvents = [{ ms: 0.5, label: 'link dropped segment #3 @17896' }];
  t.deepEqual(validateReport(r), []);
  const html = renderHtml(r);
  t.regex(html, /<i>tun: the relay copies every packet, so the receiving kernel reads its own copy<\/i>/);
  t.regex(html, /link dropped segment #3 @17896/);
  t.regex(renderMarkdown(r), /- tun: the relay copies every packet/);
});
