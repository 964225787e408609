// The recommendation rows: the cheapest safeguard that held, what failed (with its
// counterexample), and a rule generated from those facts — change the data, the rule follows.
import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildMatrixCells, type CaseLike } from './cells.ts';
import { buildRecommendations, costOf } from './recommend.ts';
import { safeguardWords } from './safeguard-words.ts';
import type { CostRow, Counterexample, MatrixCell, Verdict } from './types.ts';

const stat = (x: number) => ({ median: x, min: x, max: x });
const row = (method: string, safeguard: string, ratio: number, transport = 'loopback'): CostRow => ({
  method, safeguard, transport, messageSize: 1 << 20, throughputMBps: stat(1000 * ratio), senderCpuMsPerGB: stat(500), ratioVsCopy: ratio,
});
/** What the evidence suite's bench yields: write() is the copy row, ratios are vs write(). */
const COST = [row('write', 'copy', 1), row('sendfile', 'none', 0.34), row('sendfile', 'app-ack', 0.32), row('sendfile', 'siocoutq', 0.33)];

/** Cells for one method from safeguard → verdicts of its cases. */
function cellsOf(spec: Record<string, Verdict[]>, method = 'sendfile', transport = 'loopback'): MatrixCell[] {
  const cases: CaseLike[] = Object.entries(spec).flatMap(([safeguard, verdicts]) =>
    verdicts.map((verdict, i) => ({ id: `${safeguard}-${transport}-${i}`, method, safeguard, transport, size: 1, verdict, reasons: verdict === 'inconclusive' ? ['gap'] : [], received: { bytes: 1 } })),
  );
  return buildMatrixCells(cases);
}
const six = (v: Verdict): Verdict[] => Array(6).fill(v);
const cx = (caseId: string): Counterexample => ({
  caseId, method: 'sendfile', safeguard: 'none', transport: 'loopback', size: 1, receiverDelayMs: 0, rcvbuf: null, verdict: 'corrupted-on-wire',
  hexDiff: { offset: 0, intended: '01', wire: 'fe', received: 'fe' }, timeline: { sendReturnedMs: 0, mutatedMs: 0, firstMutatedPacketMs: null, receiverFirstReadMs: null },
  pcap: null, caseJson: 'x/case.json', received: { mismatchedBytes: 1, firstOffset: 0, equalsMutation: 1, zero: 0 },
});

const SENDFILE = {
  none: ['corrupted-on-wire', 'corrupted-on-wire', 'corrupted-after-wire', 'corrupted-after-wire', 'corrupted-after-wire', 'corrupted-after-wire'] as Verdict[],
  siocoutq: six('corrupted-after-wire'),
  'app-ack': six('clean'),
  lease: six('clean'),
  copy: six('clean'),
};

test('the cheapest safeguard that held is recommended; copy only when nothing else held; failures link their counterexample', (t) => {
  const { rows, dimensions } = buildRecommendations(cellsOf(SENDFILE), COST, [cx('none-loopback-3')]);
  t.deepEqual(dimensions, ['method', 'transport']);
  t.is(rows.length, 1);
  const r = rows[0]!;
  t.deepEqual(r.scope, { method: 'sendfile', transport: 'loopback' });
  // copy (1× write()) is cheaper than app-ack (0.32×) but replaces sendfile; lease has no cost.
  t.deepEqual(r.held.map((h) => h.safeguard), ['copy', 'app-ack', 'lease']);
  t.is(r.use, 'app-ack');
  t.deepEqual(r.held[1]!.cost, { ratio: 0.32, measuredOn: 'loopback', basis: 'bench, loopback, 1MiB messages' });
  t.is(r.held[2]!.cost.ratio, null);
  t.is(r.held[1]!.upperBound95, 1 - 0.05 ** (1 / 6));
  t.deepEqual(r.failed.map((f) => [f.safeguard, f.verdict, f.corruptedCases, f.headline, f.counterexample]), [
    ['none', 'corrupted-on-wire', 6, '6/6 corrupted (2 on wire, 4 after wire)', 'none-loopback-3'],
    ['siocoutq', 'corrupted-after-wire', 6, '6/6 corrupted (6 after wire)', null],
  ]);
  t.is(
    r.rule,
    "after sendfile, wait for the receiver's ack (app-ack) or hold a lease on the file until the receiver's ack (lease); " +
      'sending a copy with write() was faster here (1× vs 0.32× write() throughput); not enough: reusing at once, SIOCOUTQ = 0.',
  );
});

test('the rule follows the data: a failing app-ack drops out, a clean none leads, nothing held says so', (t) => {
  const rule = (spec: Record<string, Verdict[]>) => buildRecommendations(cellsOf(spec), COST, []).rows[0]!;
  const ackFails = rule({ ...SENDFILE, 'app-ack': [...six('clean').slice(1), 'corrupted-after-wire'] });
  t.is(ackFails.use, 'lease');
  t.regex(ackFails.rule, /^after sendfile, hold a lease on the file until the receiver's ack \(lease\);/);
  t.regex(ackFails.rule, /not enough: reusing at once, SIOCOUTQ = 0, the receiver's ack\.$/);
  const noneHolds = rule({ ...SENDFILE, none: six('clean') });
  t.is(noneHolds.use, 'none');
  t.regex(noneHolds.rule, /^after sendfile, reusing the buffer at once corrupted no case here \(6\/6 clean; rate ≤\u00a039\u00a0% at 95\u00a0%\); also held: wait for the receiver's ack \(app-ack\) or hold a lease/);
  const onlyCopy = rule({ none: SENDFILE.none, copy: six('clean'), 'app-ack': ['inconclusive', ...six('clean').slice(1)] });
  t.is(onlyCopy.use, 'copy');
  t.deepEqual(onlyCopy.unproven.map((u) => [u.safeguard, u.why]), [['app-ack', '1 of 6 inconclusive: gap']]);
  t.is(onlyCopy.rule, 'after sendfile, no wait tried held: send a copy with write() instead (copy); not enough: reusing at once.');
  const nothing = rule({ none: SENDFILE.none, siocoutq: SENDFILE.siocoutq, 'app-ack': six('inconclusive') });
  t.is(nothing.use, null);
  t.is(nothing.rule, 'after sendfile, no safeguard tried held in every case; not enough: reusing at once, SIOCOUTQ = 0; not settled: app-ack.');
});

test('a safeguard that held in one scope but failed in another of the same method says so in the rule', (t) => {
  const loopback = cellsOf({ none: ['corrupted-on-wire', 'corrupted-on-wire', 'clean', 'clean', 'clean', 'clean'], 'zc-completion': six('clean') }, 'msg-zerocopy', 'loopback');
  const veth = cellsOf({ none: six('clean'), 'zc-completion': six('clean') }, 'msg-zerocopy', 'veth');
  const [lo, ve] = buildRecommendations([...loopback, ...veth], COST, []).rows;
  t.is(ve!.use, 'none');
  t.regex(ve!.rule, /^after msg-zerocopy, reusing the buffer at once corrupted no case here \(6\/6 clean; [^)]*\); but reusing at once was not enough on loopback \(2\/6 corrupted \(2 on wire\)\); also held: wait for the zero-copy completion/);
  t.is(lo!.use, 'zc-completion');
  t.false(lo!.rule.includes('but '), 'zc-completion held on both');
});

test('costs: another transport’s figure is used and named; copy and a bare write() take the write() row', (t) => {
  const veth = buildRecommendations(cellsOf(SENDFILE, 'sendfile', 'veth'), COST, []).rows[0]!;
  t.deepEqual(veth.held.find((h) => h.safeguard === 'app-ack')!.cost, { ratio: 0.32, measuredOn: 'loopback', basis: 'bench, loopback (not benched on veth), 1MiB messages' });
  t.is(costOf([...COST, row('sendfile', 'app-ack', 0.5, 'veth')], 'sendfile', 'app-ack', 'veth').ratio, 0.5, 'the same transport wins');
  t.deepEqual(costOf(COST, 'write', 'none', 'loopback'), { ratio: 1, measuredOn: 'loopback', basis: 'the write() row: bench, loopback, 1MiB messages' });
  t.is(costOf(COST, 'vmsplice', 'copy', 'loopback').ratio, 1);
  t.is(costOf(COST, 'vmsplice', 'lease', 'loopback').ratio, null);
});

test('a new dimension is one more key: rows split by it, the rule stays per method', (t) => {
  const ext4 = cellsOf(SENDFILE).map((c) => ({ ...c, filesystem: 'ext4' }));
  const tmpfs = cellsOf({ ...SENDFILE, siocoutq: six('clean') }).map((c) => ({ ...c, filesystem: 'tmpfs' }));
  const { rows, dimensions } = buildRecommendations([...tmpfs, ...ext4], COST, [], ['method', 'transport', 'filesystem']);
  t.deepEqual(dimensions, ['method', 'transport', 'filesystem']);
  t.deepEqual(rows.map((r) => r.scope), [
    { method: 'sendfile', transport: 'loopback', filesystem: 'ext4' },
    { method: 'sendfile', transport: 'loopback', filesystem: 'tmpfs' },
  ]);
  t.true(rows[1]!.held.some((h) => h.safeguard === 'siocoutq'));
  t.false(rows[0]!.held.some((h) => h.safeguard === 'siocoutq'));
  t.throws(() => buildRecommendations([], [], [], ['transport']), { message: /method dimension/ });
});

test('property: held are exactly the clean cells, failed exactly those with a corrupted case, and the rule says so', (t) => {
  const SAFEGUARDS = ['none', 'siocoutq', 'siocoutqnsd', 'app-ack', 'copy', 'lease', 'lease-early'];
  const verdict = fc.constantFrom<Verdict>('clean', 'clean', 'clean', 'corrupted-on-wire', 'corrupted-after-wire', 'corrupted-on-retransmit', 'inconclusive');
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...SAFEGUARDS), fc.array(verdict, { minLength: 1, maxLength: 4 }), { minKeys: 1 }), (spec) => {
      const cells = cellsOf(spec);
      const [r] = buildRecommendations(cells, COST, []).rows;
      const clean = cells.filter((c) => c.verdict === 'clean').map((c) => c.safeguard);
      const corrupted = cells.filter((c) => c.corruptedCases > 0).map((c) => c.safeguard);
      assert.deepEqual(r!.held.map((h) => h.safeguard).sort(), clean.sort());
      assert.deepEqual(r!.failed.map((f) => f.safeguard).sort(), corrupted.sort());
      assert.equal(r!.use === null, clean.length === 0);
      if (r!.use !== null) assert.ok(clean.includes(r!.use));
      if (r!.use !== null && r!.use !== 'copy') assert.equal(r!.use, r!.held.find((h) => h.safeguard !== 'copy')!.safeguard);
      for (const f of corrupted) assert.ok(r!.rule.includes(safeguardWords(f).failed), `${f} named as not enough: ${r!.rule}`);
      if (r!.use !== null && r!.use !== 'none') assert.ok(r!.rule.includes(safeguardWords(r!.use).held), `the rule names ${r!.use}: ${r!.rule}`);
    }),
  );
  t.pass('fast-check found no counterexample');
});
