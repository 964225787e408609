// Observations vs baselines: rates compared by Fisher's exact test (a difference beyond chance is a
// finding), the first format's outcome strings converted by a written rule (or refused), no file
// mixing the two, and `zcprobe baseline write` runs every property file that records an observation.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BASELINES_DIR, baselineFrom, compareWithBaseline, CORRUPTED, judgeFamily, kernelSeries, migrateEntry, parseBaseline, parseObservations,
  readBaseline,
  recordObservation, SIGBUS_IN_WRITE, writeBaseline, type Observation,
} from './baselines.ts';
import { CLAIMS } from './claims/index.ts';
import { OBSERVING_FILES } from '../cli/baseline.ts';

const REL = '6.18.44-fc-v857';
const obs = (seen: number, runs: number): Observation => ({
  id: 'msg-zerocopy-reuse', statement: 's', event: CORRUPTED, seen, runs, transport: 'loopback',
});

test('kernel series is major.minor of uname -r', (t) => {
  t.is(kernelSeries(REL), '6.18');
  t.is(kernelSeries('5.10.0-30-cloud-amd64'), '5.10');
  t.throws(() => kernelSeries('weird'), { message: /major.minor/ });
});

test('recorded rates become a baseline; Fisher decides consistent, differs or no baseline; the run\'s family decides FINDINGs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-baselines-'));
  try {
    const recorded = [{ ...obs(10, 40), kernel: REL }, { ...obs(2, 3), id: 'other', transport: 'veth', kernel: REL }];
    const lines = recorded.map((o) => JSON.stringify(o)).join('\n');
    const b = baselineFrom(lines, 'loopback', REL);
    t.deepEqual(Object.keys(b.observations), ['msg-zerocopy-reuse']);
    t.deepEqual(b.observations['msg-zerocopy-reuse'], { statement: 's', event: CORRUPTED, seen: 10, runs: 40 });
    const path = writeBaseline(b, dir);
    t.is(path, join(dir, '6.18-loopback.json'));
    const back = readBaseline('loopback', '6.18.99', dir);
    t.is(compareWithBaseline(obs(6, 40), back, '6.18.99').status, 'consistent', '10/40 vs 6/40: chance');
    const d = compareWithBaseline(obs(0, 40), back, '6.18.99');
    t.is(d.status, 'differs');
    t.is(Number(d.p!.toPrecision(4)), 0.001030, 'R: fisher.test(matrix(c(0, 10, 40, 30), 2))$p.value');
    t.is(
      d.line,
      'below 0.01 for this observation alone: msg-zerocopy-reuse on 6.18.99 (loopback): 0/40 corrupted (95 % CI 0–8.8 %); ' +
        'the 6.18/loopback baseline (6.18.44-fc-v857) had 10/40 corrupted (95 % CI 13–41 %); ' +
        "Fisher's exact test, two-sided: p = 0.001 — \"s\"",
    );
    // Judged with the run's other comparisons (Tarone): unchanged all-or-nothing ones cannot reach any
    // threshold and leave it at 1 %; twenty that could (rates inside (0, 1)) lower it.
    const same = (id: string, seen: number, runs: number) => ({ ...obs(seen, runs), id });
    const flat = Array.from({ length: 20 }, (_, i) => same(`flat-${i}`, 10, 10));
    const plus = (more: Observation[]) => ({
      ...back!,
      observations: { ...back!.observations, ...Object.fromEntries(more.map((o) => [o.id, { statement: 's', event: CORRUPTED, seen: o.seen, runs: o.runs }])) },
    });
    const flatBase = plus(flat);
    const withFlat = [obs(0, 40), ...flat];
    const j1 = judgeFamily(withFlat.map((o) => compareWithBaseline(o, flatBase, '6.18.99')), withFlat).judged;
    t.is(j1[0]!.status, 'differs');
    t.regex(j1[0]!.line, /^FINDING: .* p = 0\.001 < threshold 0\.01 = 0\.01 \/ 1, the 1 of 21 comparisons whose margins could reach it — "s"$/);
    t.true(j1.slice(1).every((c) => c.status === 'consistent'));
    const noisy = Array.from({ length: 20 }, (_, i) => same(`noisy-${i}`, 5, 10));
    const noisyBase = plus(noisy);
    const withNoisy = [obs(0, 40), ...noisy];
    const j2 = judgeFamily(withNoisy.map((o) => compareWithBaseline(o, noisyBase, '6.18.99')), withNoisy).judged;
    // K = 20: the twenty could reach 0.01 / 20; this one, 0/40 against 10/40, can give no p below 0.001
    t.is(j2[0]!.status, 'consistent', 'p = 0.001 is chance among twenty comparisons that could each reach 0.01 / 20');
    t.regex(j2[0]!.line, /^observation .* p = 0\.001, not below the threshold 0\.0005 = 0\.01 \/ 20, the 20 of 21 comparisons .*: consistent$/);
    t.is(compareWithBaseline(obs(0, 40), readBaseline('loopback', '5.10.1', dir), '5.10.1').status, 'no-baseline');
    const otherEvent = compareWithBaseline({ ...obs(0, 5), event: 'corrupted-on-wire' }, back, '6.18.99');
    t.regex(otherEvent.line, /counts "corrupted", not "corrupted-on-wire": re-write it/);
    t.throws(() => baselineFrom(lines, 'loopback', '6.1.0'), { message: /recorded on 6\.18\.44/ });
    t.throws(() => recordObservation(obs(3, 2), join(dir, 'x.jsonl')), { message: /not a rate/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the first format converts by its written rule: counts where the outcome had them, else 1 or 0 of 1 (marked)', (t) => {
  const m = (outcome: string, detail?: string) => migrateEntry('x', { statement: 's', outcome, ...(detail ? { detail } : {}) });
  const rate = (e: ReturnType<typeof m>) => [e.event, e.seen, e.runs, e.migratedFrom?.single];
  t.deepEqual(rate(m('6/6 corrupted')), [CORRUPTED, 6, 6, false]);
  t.deepEqual(rate(m('clean 6/6')), [CORRUPTED, 0, 6, false]);
  t.deepEqual(rate(m('clean 4/6, corrupted-after-wire 1/6, inconclusive 1/6')), [CORRUPTED, 1, 5, false]);
  t.deepEqual(rate(m('corrupted-after-wire 10/10')), ['corrupted-after-wire', 10, 10, false]);
  t.deepEqual(rate(m('held', '10 cases')), [CORRUPTED, 0, 10, false]);
  t.deepEqual(rate(m('held', '12 clean')), [CORRUPTED, 0, 12, false]);
  t.deepEqual(rate(m('held')), [CORRUPTED, 0, 1, true]);
  // Counts that include shrinking runs are no sample.
  t.deepEqual(rate(m('falsified', '75 clean, 27 corrupted-on-wire')), [CORRUPTED, 1, 1, true]);
  t.deepEqual(rate(m('short count; SIGBUS: not from write() itself')), [SIGBUS_IN_WRITE, 0, 1, true]);
  t.deepEqual(rate(m('killed inside write(); SIGBUS: yes, inside write()')), [SIGBUS_IN_WRITE, 1, 1, true]);
  t.is(m('falsified').migratedFrom?.outcome, 'falsified');
  t.throws(() => m('sometimes'), { message: /no rule converts the outcome "sometimes"/ });
});

test('a baseline file is one format or the other: both read, mixing refused with the entry named', (t) => {
  const header = { kernel: REL, transport: 'loopback', writtenAt: 'w' };
  const old = { ...header, observations: { a: { statement: 's', outcome: 'falsified' }, b: { statement: 's', outcome: 'clean 6/6' } } };
  const b = parseBaseline(JSON.stringify(old), 'old.json');
  t.is(b.format, 2);
  const migratedFrom = { outcome: 'clean 6/6', single: false };
  t.deepEqual(b.observations.b, { statement: 's', event: CORRUPTED, seen: 0, runs: 6, migratedFrom });
  const mixed = { ...old, observations: { ...old.observations, c: { statement: 's', event: CORRUPTED, seen: 1, runs: 2 } } };
  t.throws(() => parseBaseline(JSON.stringify(mixed), 'mixed.json'), { message: /^mixed\.json: c is not an outcome of the first format/ });
  const fresh = { format: 2, ...header, observations: { c: { statement: 's', event: CORRUPTED, seen: 1, runs: 2 } } };
  t.is(parseBaseline(JSON.stringify(fresh), 'new.json').observations.c!.runs, 2);
  const mixedNew = { ...fresh, observations: { ...fresh.observations, a: { statement: 's', outcome: 'falsified' } } };
  t.throws(() => parseBaseline(JSON.stringify(mixedNew), 'new.json'), { message: /a is not a rate .* format 2/ });
  t.throws(() => parseBaseline(JSON.stringify({ ...fresh, format: 3 }), 'f.json'), { message: /unknown baseline format 3/ });
  const tooMany = { ...fresh, observations: { c: { statement: 's', event: CORRUPTED, seen: 3, runs: 2 } } };
  t.throws(() => parseBaseline(JSON.stringify(tooMany), 'f.json'), { message: /not a rate/ });
  // Recorded observations (JSON lines): the same rule, and no mixing either.
  const oldLine = JSON.stringify({ id: 'a', statement: 's', outcome: '3/3 corrupted', transport: 'veth', kernel: REL });
  const newLine = JSON.stringify({ ...obs(1, 2), kernel: REL });
  t.deepEqual(parseObservations(oldLine, 'f').map((o) => [o.seen, o.runs, o.migratedFrom?.single]), [[3, 3, false]]);
  t.throws(() => parseObservations(`${oldLine}\n${newLine}`, 'f'), { message: /mixes observations recorded as rates with 1 of the first/ });
});

test('the committed baselines are rates, and what they were converted from is kept', (t) => {
  for (const f of readdirSync(BASELINES_DIR).filter((x) => x.endsWith('.json'))) {
    const raw = JSON.parse(readFileSync(join(BASELINES_DIR, f), 'utf8'));
    t.is(raw.format, 2, `${f} is in the rate format`);
    const b = parseBaseline(JSON.stringify(raw), f);
    for (const [id, e] of Object.entries(b.observations)) t.true(e.runs >= 1 && e.seen <= e.runs, `${f}: ${id}`);
  }
});

test('zcprobe baseline migrate writes what parseBaseline reads: the same entries', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-migrate-'));
  try {
    const entry = { statement: 's', outcome: 'falsified', detail: '17 clean, 20 corrupted-on-wire' };
    const old = { kernel: REL, transport: 'tun', writtenAt: 'w', observations: { 'tun-none-lossy': entry } };
    writeFileSync(join(dir, '6.18-tun.json'), JSON.stringify(old));
    const b = parseBaseline(readFileSync(join(dir, '6.18-tun.json'), 'utf8'), 'tun');
    writeBaseline(b, dir);
    const again = parseBaseline(readFileSync(join(dir, '6.18-tun.json'), 'utf8'), 'tun');
    t.deepEqual(again, b);
    t.is(again.observations['tun-none-lossy']!.detail, '17 clean, 20 corrupted-on-wire');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zcprobe baseline write runs every property file that records an observation', (t) => {
  const root = resolve(import.meta.dirname, '..', '..');
  const observationClaims = Object.values(CLAIMS).filter((c) => c.kind === 'observation').map((c) => c.id);
  const helpers = ['t-truncation', 't-fs-claims', 't-tun-observe'];
  const observing = readdirSync(join(root, 'properties')).filter((f) => f.endsWith('.test.ts')).filter((f) => {
    const text = readFileSync(join(root, 'properties', f), 'utf8');
    return /\bobserve\(/.test(text) || helpers.some((h) => text.includes(`helpers/${h}.ts`)) || observationClaims.some((id) => text.includes(`'${id}'`));
  });
  t.true(observing.length >= 5);
  t.deepEqual([...OBSERVING_FILES].sort(), observing.map((f) => `properties/${f}`).sort());
});
