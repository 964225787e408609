// With a remote receiver the verdict stands on the agent's capture checked against the sender's: a late device read is
// corruption on the wire; an unexplained change or a bad capture is inconclusive; a differing retransmission only the sender saw
// still counts. Captures built frame by frame go through the decoder, reassembler and toCaseReport as a live case does.
import test from 'ava';
import { buildTcpPacket, writePcap } from '../../../test-support/packet-builder.ts';
import { decodePcap, LINKTYPE_ETHERNET } from '../../capture/pcap.ts';
import { reassemble } from '../../capture/reassembly.ts';
import type { WireObservation } from '../../capture/wire.ts';
import { toCaseReport } from '../../verdict/case-report.ts';
import { makeExperiment } from '../../model/experiment.ts';
import { patternA, patternB } from '../../model/patterns.ts';
import type { CaseRun } from '../../session/run-case.ts';
import type { RemoteArrival } from './arrival.ts';

const CONN = { src: '10.255.0.1', srcPort: 41000, dst: '10.255.0.2', dstPort: 5000 };
const ISN = 7_000_000;
const MSS = 16 * 1024;
const SIZE = 128 * 1024;
const I = patternA(SIZE);
const B = patternB(SIZE);

interface Frame { seq: number; payload?: Uint8Array; syn?: boolean; fin?: boolean }
const syn: Frame = { seq: ISN, syn: true };
const fin: Frame = { seq: ISN + 1 + SIZE, fin: true };
const data = (bytes: Uint8Array, from = 0, to = bytes.length): Frame[] => {
  const out: Frame[] = [];
  for (let o = from; o < to; o += MSS) out.push({ seq: ISN + 1 + o, payload: bytes.subarray(o, Math.min(to, o + MSS)) });
  return out;
};
/** I up to `at`, then B: what a source changed at `at` looks like. */
const changedFrom = (at: number): Buffer => Buffer.concat([I.subarray(0, at), B.subarray(at)]);

function observe(frames: Frame[], t0Us = 1_000_000_000): WireObservation {
  const packets = frames.map((f, i) => ({
    tsUs: t0Us + i * 10,
    data: buildTcpPacket({
      ...CONN, seq: f.seq, ack: 0, payload: Buffer.from(f.payload ?? []), flags: { syn: !!f.syn, ack: !f.syn, fin: !!f.fin },
    }),
  }));
  const pcap = writePcap(LINKTYPE_ETHERNET, packets);
  const decoded = decodePcap(pcap);
  return { stream: reassemble(decoded.segments, CONN), pcap, packets: decoded.segments.length, droppedByKernel: 0, iface: 'zcp0', undecoded: { headerTruncated: 0, fragments: 0 }, finished: { ok: true, reason: 'fin-acked', waitedMs: 0 } };
}

function remoteRun(received: Uint8Array, arrival: WireObservation | null, more: Partial<RemoteArrival> = {}): CaseRun {
  const remote: RemoteArrival = { agent: '10.255.0.2:7000', observation: arrival, captureError: null, agentView: CONN, clock: { offsetMs: 250, uncertaintyMs: 0.05, rttMs: 0.1, samples: 5, measuredAt: 0 }, ...more };
  return {
    id: 'case-remote',
    experiment: makeExperiment({ method: 'vmsplice', size: SIZE, transport: 'remote' }),
    connection: CONN,
    send: { bytes: SIZE, calls: 1, shortCounts: 0, startedAt: 1000, returnedAt: 1001 },
    safeguard: { waitedMs: 0, signal: 'returned at once', reached: true },
    mutation: { mutation: 'overwrite', startedAt: 1002, mutatedAt: 1002 },
    receiver: { id: 'case-remote', bytes: received.length, acceptedAt: 1000, firstReadAt: 1050, doneAt: 1100, rcvbufEffective: 0, peer: { address: CONN.src, port: CONN.srcPort }, ackSentAt: null, remote },
    streams: { intended: I, mutated: B, received: Buffer.from(received) },
    expectation: { changes: [{ start: 0, end: SIZE, to: 'new' }] },
    filesystem: null,
  };
}

test('both captures and the receiver hold I → clean, the captures compared over every byte', (t) => {
  const r = toCaseReport(remoteRun(I, observe([syn, ...data(I), fin])), observe([syn, ...data(I), fin]));
  t.is(r.verdict, 'clean');
  t.is(r.wire.capture === 'captured' && r.wire.capturedBy, 'agent');
  t.is(r.departed?.capturedBy, 'sender');
  t.deepEqual(r.departed?.comparedWithArrival, {
    compared: SIZE, lateRead: 0, firstLateRead: null, unexplained: 0, firstUnexplained: null,
  });
  t.deepEqual(r.timings.receiverClock, { offsetMs: 250, uncertaintyMs: 0.05 });
});

test('I left the sender, B arrived: the device read late → corrupted-on-wire, and the reasons say so', (t) => {
  const late = changedFrom(3 * MSS);
  const r = toCaseReport(remoteRun(late, observe([syn, ...data(late), fin])), observe([syn, ...data(I), fin]));
  t.is(r.verdict, 'corrupted-on-wire');
  t.is(r.departed?.comparedWithArrival?.lateRead, SIZE - 3 * MSS);
  t.regex(r.reasons.join('\n'), /left the sender's capture tap as intended but arrived as the mutation \(first at offset 49152\)/);
  // The first mutated packet is the agent's: its time is put on the sender's clock.
  t.is(r.timings.firstMutatedPacketAt, 1_000_000 + 3 * 0.01 + 0.01 - 250);
});

test('bytes changed between the captures in a way no late read explains → inconclusive', (t) => {
  const left = changedFrom(2 * MSS); // B left the sender …
  const r = toCaseReport(remoteRun(I, observe([syn, ...data(I), fin])), observe([syn, ...data(left), fin])); // … but I arrived
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join('\n'), /in a way no late read of the source explains \(first at offset 32768\)/);
});

test("a problem of the sender's capture makes the case inconclusive even when the arrival looks clean", (t) => {
  const r = toCaseReport(remoteRun(I, observe([syn, ...data(I), fin])), observe([...data(I), fin]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join('\n'), /sender's capture: the stream start is not anchored/);
});

test("without the agent's capture of the case, what left proves nothing here → inconclusive", (t) => {
  const r = toCaseReport(remoteRun(I, null, { captureError: 'tcpdump exited' }), observe([syn, ...data(I), fin]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons.join('\n'), /the agent's capture of this case is missing: tcpdump exited/);
});

test('a differing retransmission only the sender captured still proves the kernel read changed pages', (t) => {
  const again: Frame = { seq: ISN + 1 + MSS, payload: B.subarray(MSS, 2 * MSS) };
  const arrival = observe([syn, ...data(I), fin]); // the retransmission was lost on the way
  const r = toCaseReport(remoteRun(I, arrival), observe([syn, ...data(I), again, fin]));
  t.is(r.verdict, 'corrupted-on-retransmit');
  t.is(r.departed?.conflicts.length, 1);
});

test('the receiver lost with the agent → inconclusive with the reason', (t) => {
  const run = remoteRun(Buffer.alloc(0), null);
  run.receiver = { ...run.receiver, error: 'agent lost before the case\'s result: connection closed by the peer' };
  const r = toCaseReport(run, observe([syn, ...data(I), fin]));
  t.is(r.verdict, 'inconclusive');
  t.regex(r.reasons[0]!, /^receiver: agent lost before the case's result/);
});
