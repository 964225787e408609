// The recommendation rows: the cheapest safeguard that held, what failed (with its
// counterexample), and a rule generated from those facts — change the data, the rule follows.
import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildMatrixCells, type CaseLike } from './cells.ts';
import { buildRecommendations, costOf } from './recommend.ts';
import { safeguardWords } from './safeguard-words.ts';
import type { CostRow, Counterexample, MatrixCell, Verdict } from './types.ts';

const NBSP = '\u00a0';
const NOT_SEEN_6 = `corruption not seen in 6 cases (rate ≤${NBSP}39${NBSP}% at 95${NBSP}%)`;
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
  t.deepEqual(r.failed.map((f) => [f.safeguard, f.verdict, f.corruptedCases, f.headline, f.counterexample, f.meetsContract]), [
    ['none', 'corrupted-on-wire', 6, '6/6 corrupted (2 on wire, 4 after wire)', 'none-loopback-3', false],
    ['siocoutq', 'corrupted-after-wire', 6, '6/6 corrupted (6 after wire)', null, false],
  ]);
  t.is(r.contract?.source, 'sendfile(2), NOTES');
  t.is(
    r.rule,
    "after sendfile, wait for the receiver's ack (app-ack) or hold a lease on the file until the receiver's ack (lease); " +
      'sending a copy with write() was faster here (1× vs 0.32× write() throughput); ' +
      'documented: "callers must ensure the transferred portions of the file referred to by in_fd remain unmodified ' +
      'until the reader on the other end ' +
      'of out_fd has consumed the transferred data" (sendfile(2), NOTES); not enough: reusing at once, SIOCOUTQ = 0.',
  );
});

test('the rule follows the data: a failing app-ack drops out, a clean none leads, nothing held says so', (t) => {
  const rule = (spec: Record<string, Verdict[]>) => buildRecommendations(cellsOf(spec), COST, []).rows[0]!;
  const ackFails = rule({ ...SENDFILE, 'app-ack': [...six('clean').slice(1), 'corrupted-after-wire'] });
  t.is(ackFails.use, 'lease');
  // The receiver's ack is sendfile's documented safe point: its failure is a finding, named first.
  t.true(ackFails.rule.startsWith("FINDING: the receiver's ack, after which the API allows reuse, was not enough here (1/6 corrupted "));
  t.true(ackFails.rule.includes("(1 after wire)); after sendfile, hold a lease on the file until the receiver's ack (lease);"));
  t.regex(ackFails.rule, /not enough: reusing at once, SIOCOUTQ = 0\.$/);
  // Clean cases never make reuse at once the advice for sendfile (its contract: until the reader consumed).
  const noneClean = rule({ ...SENDFILE, none: six('clean') });
  t.is(noneClean.use, 'app-ack');
  t.regex(noneClean.rule, /^after sendfile, wait for the receiver's ack \(app-ack\) or hold a lease/);
  t.true(noneClean.rule.includes(`reusing at once: ${NOT_SEEN_6}, but the API still requires the receiving`));
  const onlyCopy = rule({ none: SENDFILE.none, copy: six('clean'), 'app-ack': ['inconclusive', ...six('clean').slice(1)] });
  t.is(onlyCopy.use, 'copy');
  t.deepEqual(onlyCopy.unproven.map((u) => [u.safeguard, u.why]), [['app-ack', '1 of 6 inconclusive: gap']]);
  t.true(onlyCopy.rule.startsWith('after sendfile, the API requires the receiving application to have consumed the data'));
  t.true(onlyCopy.rule.includes('; no safeguard that waits for it held here: send a copy with write() instead (copy); documented: '));
  t.regex(onlyCopy.rule, /; not enough: reusing at once\.$/);
  const nothing = rule({ none: SENDFILE.none, siocoutq: SENDFILE.siocoutq, 'app-ack': six('inconclusive') });
  t.is(nothing.use, null);
  t.regex(nothing.rule, /^after sendfile, the API requires .*; not enough: reusing at once, SIOCOUTQ = 0; not settled: app-ack\.$/);
});

test('a safeguard that held in one scope but failed in another of the same method says so in the rule', (t) => {
  const ackHere = cellsOf({ 'app-ack': six('clean') }, 'sendfile', 'veth');
  const ackThere = cellsOf({ 'app-ack': [...six('clean').slice(1), 'corrupted-after-wire'] }, 'sendfile', 'loopback');
  const [lo, ve] = buildRecommendations([...ackThere, ...ackHere], COST, []).rows;
  t.is(ve!.use, 'app-ack');
  t.true(ve!.rule.startsWith("after sendfile, wait for the receiver's ack (app-ack); but the receiver's ack was not enough on loopback"));
  t.is(lo!.use, null);
  const zcLo = cellsOf({ none: six('clean'), 'zc-completion': six('clean') }, 'msg-zerocopy', 'loopback');
  const zcVe = cellsOf({ none: six('clean'), 'zc-completion': six('clean') }, 'msg-zerocopy', 'veth');
  const both = buildRecommendations([...zcLo, ...zcVe], COST, []).rows;
  t.false(both.some((r) => / was not enough on /.test(r.rule)), 'zc-completion held on both');
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

const BY_REFERENCE = ['sendfile', 'splice', 'vmsplice', 'vmsplice-gift', 'tee', 'msg-zerocopy', 'io-uring-zc'];
const ALL_SAFEGUARDS = ['none', 'siocoutq', 'siocoutqnsd', 'zc-completion', 'app-ack', 'copy', 'lease', 'lease-early'];
const verdict = fc.constantFrom<Verdict>(
  'clean', 'clean', 'clean', 'corrupted-on-wire', 'corrupted-after-wire', 'corrupted-on-retransmit', 'inconclusive',
);
const spec = fc.dictionary(fc.constantFrom(...ALL_SAFEGUARDS), fc.array(verdict, { minLength: 1, maxLength: 4 }), { minKeys: 1 });

test('property: held are exactly the clean cells, failed exactly those with a corrupted case, and the rule says so', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('write', 'mmap-write', ...BY_REFERENCE), spec, (method, sp) => {
      const cells = cellsOf(sp, method);
      const [r] = buildRecommendations(cells, COST, []).rows;
      const clean = cells.filter((c) => c.verdict === 'clean').map((c) => c.safeguard);
      const corrupted = cells.filter((c) => c.corruptedCases > 0).map((c) => c.safeguard);
      assert.deepEqual(r!.held.map((h) => h.safeguard).sort(), clean.sort());
      assert.deepEqual(r!.failed.map((f) => f.safeguard).sort(), corrupted.sort());
      if (r!.use !== null) assert.ok(clean.includes(r!.use));
      for (const f of corrupted) assert.ok(r!.rule.includes(safeguardWords(f).failed), `${f} named as not enough: ${r!.rule}`);
      if (r!.use !== null && r!.use !== 'none') assert.ok(r!.rule.includes(safeguardWords(r!.use).held), `the rule names ${r!.use}: ${r!.rule}`);
    }),
  );
  t.pass('fast-check found no counterexample');
});

test('property: a by-reference method is never advised "none", whatever its cases; the rule quotes its contract', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...BY_REFERENCE), spec, (method, sp) => {
      const [r] = buildRecommendations(cellsOf(sp, method), COST, []).rows;
      assert.notEqual(r!.use, 'none');
      assert.ok(r!.use === null || r!.held.find((h) => h.safeguard === r!.use)!.meetsContract, `${r!.use} is allowed by the contract`);
      assert.ok(!/reusing the buffer at once corrupted no case|reuse the buffer at once/.test(r!.rule), r!.rule);
      assert.ok(r!.rule.includes(`"${r!.contract.quote}" (${r!.contract.source})`), `the rule quotes the contract: ${r!.rule}`);
    }),
  );
  // All clean, every safeguard: still not "none".
  for (const method of BY_REFERENCE) {
    const r = buildRecommendations(cellsOf(Object.fromEntries(ALL_SAFEGUARDS.map((s) => [s, six('clean')])), method), COST, []).rows[0]!;
    t.not(r.use, 'none', method);
    t.true(r.rule.includes(`reusing at once: ${NOT_SEEN_6}, but the API still requires `), method);
  }
});

test('a clean none of a by-reference method: "not seen in n cases (rate ≤ x %), but the API still requires …", quoted', (t) => {
  const cells = cellsOf({ none: Array(20).fill('clean'), 'zc-completion': six('clean'), siocoutq: six('clean') }, 'msg-zerocopy', 'veth');
  const r = buildRecommendations(cells, COST, []).rows[0]!;
  t.is(r.use, 'zc-completion');
  t.is(
    r.rule,
    'after msg-zerocopy, wait for the zero-copy completion (zc-completion); ' +
      'reusing at once: corruption not seen in 20 cases (rate ≤\u00a014\u00a0% at 95\u00a0%), but the API still requires ' +
      'the zero-copy completion (MSG_ERRQUEUE): "the process cannot immediately overwrite the buffer after system call return ' +
      'without possibly modifying the data in flight … The kernel returns a notification when it is safe to modify data." ' +
      '(msg_zerocopy.rst, "Opportunity and Caveats"); clean here but not the API\'s safe point: SIOCOUTQ = 0 (6/6 clean).',
  );
  // Nothing the contract allows was tried: the rule names the safe point instead.
  const onlyNone = buildRecommendations(cellsOf({ none: six('clean') }, 'io-uring-zc', 'veth'), COST, []).rows[0]!;
  t.is(onlyNone.use, null);
  t.true(onlyNone.rule.startsWith('after io-uring-zc, the API requires the notification CQE (F_NOTIF); no safeguard that waits for it'));
  t.true(onlyNone.rule.includes('held here; reusing at once: corruption not seen in 6 cases'));
});

test('a copying method may still be advised none: its contract allows reuse at once', (t) => {
  const r = buildRecommendations(cellsOf({ none: six('clean'), 'app-ack': six('clean') }, 'write'), COST, []).rows[0]!;
  t.is(r.use, 'none');
  t.is(r.contract?.holds, 'copy');
  t.true(r.rule.startsWith(`after write, reusing the buffer at once corrupted no case here (6/6 clean; rate ≤${NBSP}39${NBSP}%`));
  t.true(r.rule.includes("%); also held: wait for the receiver's ack"));
  t.deepEqual(buildRecommendations(cellsOf({ none: six('clean') }, 'write'), COST, []).contradictions, []);
});

test('evidence against a contract is a FINDING: a documented safe point with a corrupted case', (t) => {
  const onceRetransmitted: Verdict[] = [...six('clean').slice(1), 'corrupted-on-retransmit'];
  const zc = cellsOf({ none: six('corrupted-on-wire'), 'zc-completion': onceRetransmitted }, 'msg-zerocopy', 'veth');
  const write = cellsOf({ none: [...six('clean').slice(1), 'corrupted-after-wire'] }, 'write', 'loopback');
  const kept = { ...cx('zc-completion-veth-5'), method: 'msg-zerocopy', safeguard: 'zc-completion', transport: 'veth' };
  const recs = buildRecommendations([...write, ...zc], COST, [kept]);
  t.deepEqual(recs.contradictions.map((c) => [c.scope.method, c.safeguard, c.corruptedCases, c.counterexample]), [
    ['write', 'none', 1, null],
    ['msg-zerocopy', 'zc-completion', 1, 'zc-completion-veth-5'],
  ]);
  t.true(recs.contradictions[1]!.line.startsWith('FINDING: msg-zerocopy (transport veth): the zero-copy completion, after which'));
  t.true(recs.contradictions[1]!.line.includes('was not enough: 1/6 corrupted (1 on retransmit). The contract: "the process cannot'));
  const zcRow = recs.rows.find((r) => r.scope.method === 'msg-zerocopy')!;
  t.is(zcRow.use, null, 'a safe point that failed is not advised');
  t.regex(zcRow.rule, /^FINDING: the zero-copy completion, after which the API allows reuse, was not enough here/);
  // Reuse at once failing for a by-reference method is no contradiction: the contract never allowed it.
  t.false(recs.contradictions.some((c) => c.scope.method === 'msg-zerocopy' && c.safeguard === 'none'));
});
