// runMatrix goes on when a case throws or a session does not open: each such case becomes an
// inconclusive case carrying the error, its cell says why, and the session is reopened after a
// failed case. Sessions are stand-ins: no sockets, no capture.
import test from 'ava';
import type { CaseReport } from '../verdict/case-report.ts';
import type { Experiment } from '../model/experiment.ts';
import { failedCaseReport } from '../verdict/failed-case.ts';
import { runMatrix, type MatrixPlan, type MatrixSession } from './matrix.ts';
import { buildMatrixCells } from '../report/cells.ts';
import type { SessionOptions } from '../session/session.ts';

const plan: MatrixPlan = {
  methods: ['write', 'sendfile'],
  safeguards: ['none'],
  transports: ['loopback', 'veth'],
  repeats: 2,
  stress: [{ size: 1000, receiverDelayMs: 0 }],
  unavailable: [],
};

function cleanReport(exp: Experiment): CaseReport {
  return { ...failedCaseReport(exp, 'n/a', 'n/a'), verdict: 'clean', reasons: [], received: { mismatchedBytes: 0, firstOffset: null, lastOffset: null, equalsMutation: 0, zero: 0, other: 0, lengthDelta: 0, bytes: exp.size, classes: { ranges: [], omittedRanges: 0, bytes: { old: exp.size, new: 0, zero: 0, other: 0, missing: 0, extra: 0 } } } };
}

test('a throwing case and an unopenable session become inconclusive cases with the error; the run goes on', async (t) => {
  const opened: string[] = [];
  const closed: string[] = [];
  let writeRuns = 0;
  const openSession = async (o: SessionOptions): Promise<MatrixSession> => {
    if (o.transport === 'veth') throw new Error('netns: Operation not permitted');
    const name = `${o.transport}#${opened.length + 1}`;
    opened.push(name);
    return {
      transport: { kind: o.transport } as unknown as MatrixSession['transport'],
      hosts: { sender: {} as MatrixSession['hosts']['sender'], receiver: 'same host' },
      captureLine: 'W: sender capture on lo',
      async run(exp) {
        // The first write case dies (e.g. the receiver exited); everything after it works.
        if (exp.method === 'write' && ++writeRuns === 1) throw new Error('receiver exited (code 1, signal null)\nstack…');
        return cleanReport(exp);
      },
      async close() {
        closed.push(name);
      },
    };
  };
  const progress: string[] = [];
  const reports = await runMatrix(plan, { runDir: '/nonexistent', openSession, onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.lastVerdict}`) });

  t.is(reports.length, 8, 'every planned case has a report');
  t.is(progress.length, 8);
  const lo = reports.filter((r) => r.transport === 'loopback');
  t.deepEqual(lo.map((r) => [r.method, r.verdict]), [['write', 'inconclusive'], ['write', 'clean'], ['sendfile', 'clean'], ['sendfile', 'clean']]);
  t.deepEqual(lo[0]!.reasons, ['the case failed: receiver exited (code 1, signal null)']);
  t.deepEqual(opened, ['loopback#1', 'loopback#2'], 'the session was reopened after the failed case');
  t.deepEqual(closed, opened, 'every session opened was closed once');
  const veth = reports.filter((r) => r.transport === 'veth');
  t.is(veth.length, 4);
  for (const r of veth) {
    t.is(r.verdict, 'inconclusive');
    t.deepEqual(r.reasons, ['opening the veth session failed: netns: Operation not permitted']);
  }
  // The cells carry the error: the report says why they are not clean.
  const cells = buildMatrixCells(reports);
  const write = cells.find((c) => c.method === 'write' && c.transport === 'loopback')!;
  t.is(write.counts.inconclusive, 1);
  t.true(write.reasons.includes('the case failed: receiver exited (code 1, signal null)'));
  const vethCell = cells.find((c) => c.method === 'sendfile' && c.transport === 'veth')!;
  t.is(vethCell.verdict, 'inconclusive');
  t.deepEqual(vethCell.reasons, ['2× opening the veth session failed: netns: Operation not permitted']);
});

test('zero-copy methods over nic and remote run in their own session without the sender capture; --sender-capture overrides', async (t) => {
  const opened: string[] = [];
  const openSession = async (o: SessionOptions): Promise<MatrixSession> => {
    opened.push(`${o.transport}:${o.senderCapture}`);
    return {
      transport: { kind: o.transport } as unknown as MatrixSession['transport'],
      hosts: { sender: {} as MatrixSession['hosts']['sender'], receiver: 'same host' },
      captureLine: '',
      run: async (exp) => cleanReport(exp),
      close: async () => undefined,
    };
  };
  const zc: MatrixPlan = { ...plan, methods: ['write', 'msg-zerocopy', 'io-uring-zc'], transports: ['veth', 'nic'], repeats: 1 };
  const reports = await runMatrix(zc, { runDir: '/nonexistent', openSession });
  t.deepEqual(opened, ['veth:on', 'nic:on', 'nic:off']);
  t.is(reports.length, 6);
  opened.length = 0;
  await runMatrix({ ...zc, senderCapture: 'on' }, { runDir: '/nonexistent', openSession });
  t.deepEqual(opened, ['veth:on', 'nic:on']);
});
