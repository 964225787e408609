// Observations vs baselines: the comparison names a difference as a finding, a missing baseline
// as such, and `zcprobe baseline write` runs every property file that records observations.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { baselineFrom, compareWithBaseline, kernelSeries, readBaseline, writeBaseline, type Observation } from './baselines.ts';
import { CLAIMS } from './claims/index.ts';
import { OBSERVING_FILES } from '../cli/baseline.ts';

const REL = '6.18.44-fc-v857';
const obs = (outcome: string): Observation => ({ id: 'msg-zerocopy-reuse', statement: 's', outcome, transport: 'loopback' });

test('kernel series is major.minor of uname -r', (t) => {
  t.is(kernelSeries(REL), '6.18');
  t.is(kernelSeries('5.10.0-30-cloud-amd64'), '5.10');
  t.throws(() => kernelSeries('weird'), { message: /major.minor/ });
});

test('recorded observations become a baseline; the comparison says same, differs (FINDING) or no baseline', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-baselines-'));
  try {
    const lines = [{ ...obs('falsified'), kernel: REL }, { ...obs('falsified'), id: 'other', transport: 'veth', kernel: REL }].map((o) => JSON.stringify(o)).join('\n');
    const b = baselineFrom(lines, 'loopback', REL);
    t.deepEqual(Object.keys(b.observations), ['msg-zerocopy-reuse']);
    const path = writeBaseline(b, dir);
    t.is(path, join(dir, '6.18-loopback.json'));
    const back = readBaseline('loopback', '6.18.99', dir);
    t.is(compareWithBaseline(obs('falsified'), back, '6.18.99').status, 'same');
    const d = compareWithBaseline(obs('held'), back, '6.18.99');
    t.is(d.status, 'differs');
    t.regex(d.line, /^FINDING: msg-zerocopy-reuse on 6\.18\.99 \(loopback\): held; the 6\.18\/loopback baseline \(6\.18\.44-fc-v857\) says falsified/);
    t.is(compareWithBaseline(obs('held'), readBaseline('loopback', '5.10.1', dir), '5.10.1').status, 'no-baseline');
    t.throws(() => baselineFrom(lines, 'loopback', '6.1.0'), { message: /recorded on 6\.18\.44/ });
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
