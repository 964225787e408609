// The report renderer: cell verdict rules, the schema and its validator, the Markdown table, the
// HTML's safety (escaping, no URL), and — when chromium is installed — that a real browser
// renders the page with its matrix and counterexamples.
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { CaseReport } from '../case-report.ts';
import { decideVerdict, type Mismatch } from '../verdict.ts';
import { sampleReport } from './fixture.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { buildMatrixCells, cellVerdict, type CaseLike, type Report } from './types.ts';
import { assertValidReport, SchemaError, validate, validateReport } from './validate.ts';
import { writeReport } from './write.ts';

const run = promisify(execFile);
// Compile-time: a CaseReport is a CaseLike, so the matrix can be built from `zcprobe run` output as is.
export const caseReportIsCaseLike = (c: CaseReport): CaseLike => c;
const clone = (): Report => structuredClone(sampleReport());
const DROPPED = 'tcpdump reported 3 packet(s) dropped by the kernel';

test('cellVerdict: any corrupted case decides, the strongest proof first', (t) => {
  t.is(cellVerdict({ clean: 11, 'corrupted-after-wire': 1 }, []), 'corrupted-after-wire');
  t.is(cellVerdict({ 'corrupted-after-wire': 8, 'corrupted-on-wire': 4 }, []), 'corrupted-on-wire');
  t.is(cellVerdict({ 'corrupted-on-wire': 1, inconclusive: 11 }, [DROPPED]), 'corrupted-on-wire');
  t.is(cellVerdict({ corrupted: 2, clean: 10 }, []), 'corrupted');
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

const mismatch = (n = 0): Mismatch => ({ mismatchedBytes: n, firstOffset: n ? 0 : null, lastOffset: n ? n - 1 : null, equalsMutation: n, zero: 0, other: 0, lengthDelta: 0 });
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
  for (const v of ['clean', 'corrupted-on-wire', 'corrupted-after-wire', 'corrupted', 'inconclusive', 'skipped']) t.true(verdicts.has(v as never), `fixture has a ${v} cell`);
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
    ['schema version', (r) => (r.schemaVersion = 2), '/schemaVersion', /one of 1/],
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

test('markdown: host line, the matrix table (rows methods, columns safeguard / transport), legend', (t) => {
  const r = clone();
  r.cells[1]!.reasons = ['a | b'];
  r.cells[1]!.verdict = 'inconclusive';
  const md = renderMarkdown(r);
  t.regex(md, /\*\*Host:\*\* `Linux probe-host 6\.1\.0-28-amd64/);
  t.regex(md, /^\| method \| none \/ loopback \| none \/ veth \| siocoutq \/ loopback \|.* copy \/ veth \|/m);
  // Columns: method + one per safeguard × transport (the safeguard list grows; derive, don't pin).
  const header = md.split('\n').find((l) => l.startsWith('| method |'))!;
  const columns = header.split('|').length - 2;
  t.true(columns >= 13);
  t.regex(md, new RegExp(`^\\|---\\|(---\\|){${columns - 1}}$`, 'm'));
  const rows = md.split('\n').filter((l) => l.startsWith('| **'));
  t.deepEqual(rows.map((l) => /^\| \*\*([^*]+)\*\*/.exec(l)![1]!.replace(/\\/g, '')), ['write', 'mmap-write', 'sendfile', 'splice', 'vmsplice', 'vmsplice-gift', 'tee', 'msg-zerocopy', 'io-uring-zc']);
  for (const row of rows) t.is(row.split(/(?<!\\)\|/).length - 2, columns, `${columns} columns: ${row}`);
  t.regex(md, /🔴 4\/12 corrupted-on-wire/);
  t.regex(md, /a \\\| b/);
  t.regex(md, /\*\*corrupted-after-wire\*\*: the wire carried the intended bytes but the receiver read the mutated ones/);
  t.regex(md, /npx zcprobe run --replay sendfile-pwrite:1794328523:3:0:1:1/);
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
  t.regex(html, /<span class="n">12\/12<\/span> <span class="v">corrupted-after-wire<\/span>/);
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  const links = [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]!);
  t.true(links.length >= 2);
  for (const l of links) t.true(ids.has(l), `#${l} exists`);
  t.regex(html, /href="#cx-[^"]+"[^]*?<section class="counterexample" id="cx-/);
  t.regex(html, /<a href="evidence\/case-12846-\d+\/case\.pcap">/);
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
browserTest(`a real browser renders the report: matrix, counterexamples, 1280 px screenshot${hasChromium ? '' : ' — chromium not installed: apt-get install chromium'}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-browser-'));
  try {
    const { html } = writeReport(join(dir, 'report'), sampleReport());
    // No network, no profile state, no sandbox (tests may run as root in a container).
    const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`];
    const url = pathToFileURL(html).href;
    const { stdout: dom } = await run(CHROMIUM, [...base, '--dump-dom', url], { timeout: 90_000, maxBuffer: 64 << 20 });
    t.regex(dom, /<table class="matrix"/);
    t.true((dom.match(/<section class="counterexample"/g)?.length ?? 0) >= 1);
    t.regex(dom, /<svg class="timeline"/, 'inline SVG survives parsing');
    const png = join(dir, 'report.png');
    await run(CHROMIUM, [...base, `--screenshot=${png}`, '--window-size=1280,2000', url], { timeout: 90_000 });
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
