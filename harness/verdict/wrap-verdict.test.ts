// A wrapped program's connection, decided from hand-made shim data and client bytes (no capture: the
// two-stream verdict): proven, latent, unexplained and inconclusive, each for its own reason.
import test from 'ava';
import type { ShimConnection } from '../capture/shim-streams.ts';
import type { WrapConnectionRun } from '../session/wrap-run.ts';
import { decideWrapConnection } from './wrap-verdict.ts';

const I = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);

function shimWith(patch: number[] | null): ShimConnection {
  return {
    pid: 1, exe: '/x', conn: 1, local: { address: '127.0.0.1', port: 80 }, peer: { address: '127.0.0.1', port: 4000 },
    intended: I, unrecorded: [], sends: [{ call: 'send', off: 0, len: 8, source: 'msg_zerocopy', range: 1, recorded: true, t: 1 }],
    patches: patch ? [{ start: 4, bytes: new Uint8Array(patch), by: 'fault', ip: '0x1', t: 2 }] : [],
    findings: patch
      ? [{ kind: 'write-in-flight', ip: '0x1', start: 4, end: 4 + patch.length, changed: patch.length, rangeKind: 'msg_zerocopy', t: 2 }]
      : [],
    releases: new Map(), sites: new Map(), blind: [], notes: [], unrecordedWrites: 0,
    log: { prefix: '/nonexistent', pid: 1, exe: '/x', startedAt: 0, events: [], unreadable: 0, maps: [] },
  };
}

function runWith(received: Buffer, error?: string): WrapConnectionRun {
  return {
    index: 1, connection: { src: '127.0.0.1', srcPort: 80, dst: '127.0.0.1', dstPort: 4000 },
    client: {
      id: 'c', bytes: received.length, connectedAt: 1, firstReadAt: 2, doneAt: 3, rcvbufEffective: 0,
      local: { address: '127.0.0.1', port: 4000 },
      data: received, ...(error ? { error } : {}),
    },
  };
}

const opts = { delayMs: 300 };

test('bytes the program wrote in flight reach the client: corrupted, the finding is proven', (t) => {
  const r = decideWrapConnection(runWith(Buffer.from([1, 2, 3, 4, 9, 9, 7, 8])), shimWith([9, 9]), opts);
  t.is(r.verdict, 'corrupted');
  t.is(r.outcome, 'proven');
  t.is(r.findings[0]!.status, 'proven');
  t.deepEqual(r.findings[0]!.proof, { wireBytes: 0, receivedBytes: 2, frames: [] });
  t.is(r.received.equalsMutation, 2);
});

test('a write in flight whose bytes never arrived changed: clean verdict, latent finding', (t) => {
  const r = decideWrapConnection(runWith(I), shimWith([9, 9]), opts);
  t.is(r.verdict, 'clean');
  t.is(r.outcome, 'latent');
  t.is(r.findings[0]!.status, 'latent');
});

test('zeros the program never wrote: corrupted without a finding, reported as unexplained', (t) => {
  const r = decideWrapConnection(runWith(Buffer.from([1, 2, 0, 0, 5, 6, 7, 8])), shimWith(null), opts);
  t.is(r.verdict, 'corrupted');
  t.is(r.outcome, 'unexplained');
  t.regex(r.unexplained ?? '', /^2 changed byte\(s\) lie outside every finding's range \(first at stream offset 2\)/);
});

test('a value the program never wrote there, a client error, more bytes than the shim saw, no shim record: inconclusive', (t) => {
  const foreign = decideWrapConnection(runWith(Buffer.from([1, 2, 3, 4, 9, 77, 7, 8])), shimWith([9, 9]), opts);
  t.deepEqual([foreign.verdict, foreign.findings[0]!.status], ['inconclusive', 'undecided']);
  const capped = decideWrapConnection(runWith(Buffer.from([1, 2, 3, 4, 9, 9, 7, 8])), { ...shimWith([9, 9]), unrecordedWrites: 3 }, opts);
  t.regex(capped.reasons.join(), /3 write\(s\) into bytes in flight were not recorded \(the shim's snapshot cap was reached\)/);
  const failed = decideWrapConnection(runWith(I, 'timed out waiting for data or EOF'), shimWith(null), opts);
  t.deepEqual([failed.verdict, failed.reasons], ['inconclusive', ['client: timed out waiting for data or EOF']]);
  const longer = decideWrapConnection(runWith(Buffer.concat([I, Buffer.from([1])])), shimWith(null), opts);
  t.regex(longer.reasons.join(), /the client read 9 bytes, the shim saw 8 sent/);
  const unseen = decideWrapConnection(runWith(I), null, opts);
  t.is(unseen.outcome, 'inconclusive');
  t.regex(unseen.reasons.join(), /the shim logged no connection with this 4-tuple/);
});
