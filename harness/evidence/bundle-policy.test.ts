// Reduced evidence bundles: the first non-clean case of each cell and verdict keeps the full bundle; later ones keep a
// case.pcapng cut to the frames that prove the verdict, which must stay whole, byte for byte, under the same filter.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePcap } from '../capture/pcap.ts';
import { reassemble } from '../capture/reassembly.ts';
import { buildTcpPacket, writePcap } from '../../test-support/packet-builder.ts';
import { tsharkFrames, tsharkSelect, tsharkUnavailableReason } from '../../test-support/tshark.ts';
import { BundlePolicy } from './bundle-policy.ts';
import { wiresharkEvidence, type CaseSummary } from './bundle.ts';
import { evidencePcap, focusOf, PROOF_ONLY_POLICY } from './trimmed-pcap.ts';

const conn = { src: '10.1.0.1', srcPort: 40001, dst: '10.1.0.2', dstPort: 8080 };
const A = (n: number, from = 0) => Buffer.from(Array.from({ length: n }, (_, i) => ((from + i) % 251) + 1));
const B = (n: number, from = 0) => Buffer.from(A(n, from).map((x) => x ^ 0xff));
const SIZE = 20_000;

/** SYN, SYN-ACK, 20 data frames of 1000 bytes (the last 6 mutated), a retransmission of 3000..4000 with new bytes, FIN. */
function capture(): Buffer {
  const back = { src: conn.dst, dst: conn.src, srcPort: conn.dstPort, dstPort: conn.srcPort };
  const isn = 7000;
  let ts = 1_700_000_000_000_000;
  const pkts: { tsUs: number; data: Buffer }[] = [];
  const push = (o: Parameters<typeof buildTcpPacket>[0]) => pkts.push({ tsUs: (ts += 100), data: buildTcpPacket(o) });
  push({ ...conn, seq: isn, flags: { syn: true } });
  push({ ...back, seq: 100, ack: isn + 1, flags: { syn: true, ack: true } });
  for (let off = 0; off < SIZE; off += 1000)
    push({ ...conn, seq: isn + 1 + off, ack: 101, flags: { ack: true }, payload: off >= 14_000 ? B(1000, off) : A(1000, off) });
  push({ ...conn, seq: isn + 1 + 3000, ack: 101, flags: { ack: true }, payload: B(1000, 3000) });
  push({ ...back, seq: 101, ack: isn + 1 + SIZE });
  push({ ...conn, seq: isn + 1 + SIZE, ack: 101, flags: { fin: true, ack: true } });
  return writePcap(1, pkts);
}

const summary: CaseSummary = {
  id: 'case-1-2', kernel: '6.18.0-test', method: 'msg-zerocopy', size: SIZE, mutation: 'overwrite', mutationRange: 'all',
  safeguard: 'none', receiverDelayMs: 50, transport: 'veth', family: 4, verdict: 'corrupted-on-wire', reasons: [],
};

test('one full bundle per cell and verdict: later cases of the same kind are reduced and name the full one', (t) => {
  const p = new BundlePolicy();
  const c = { method: 'msg-zerocopy', safeguard: 'none', transport: 'veth', fs: null, mutation: 'overwrite' };
  const verdict = 'corrupted-on-wire' as const;
  t.deepEqual(p.decide({ ...c, verdict, id: 'case-1' }), { full: true });
  t.deepEqual(p.decide({ ...c, verdict, id: 'case-2' }), { full: false, fullBundleCase: 'case-1' });
  t.deepEqual(p.decide({ ...c, id: 'case-3', verdict: 'corrupted-after-wire' }), { full: true }, 'another kind of corruption');
  t.deepEqual(p.decide({ ...c, verdict, id: 'case-4', transport: 'tun' }), { full: true }, 'another cell');
  t.deepEqual(p.decide({ ...c, verdict, id: 'case-5', fs: 'xfs' }), { full: true }, 'another filesystem is another cell');
  t.deepEqual(p.decide({ ...c, verdict, id: 'case-6' }), { full: false, fullBundleCase: 'case-1' });
});

/** What writeCaseEvidence does for a reduced bundle: marks found in the whole capture, records cut to the focus. */
function reduced(pcap: Buffer) {
  const stream = reassemble(decodePcap(pcap).segments, conn);
  const focus = focusOf(14_000, 14_000, stream);
  const cut = evidencePcap(pcap, conn, stream, focus, PROOF_ONLY_POLICY);
  const mark = { pcap, connection: conn, intended: A(SIZE), mutated: B(SIZE), receivedFirstOffset: 14_000 };
  return { cut, full: wiresharkEvidence(summary, mark), reduced: wiresharkEvidence(summary, mark, cut.pcap) };
}

test('a reduced bundle keeps every proving frame whole and byte-identical, the same numbering, and only headers elsewhere', (t) => {
  const pcap = capture();
  const { cut, full, reduced: small } = reduced(pcap);
  t.deepEqual(small.pointers, full.pointers, 'the same filter and frames');
  const p = small.pointers!;
  t.is(p.firstMutatedFrame, 17, 'offset 14000 is in the 15th data frame');
  t.deepEqual(p.conflictFrames, [23]);
  t.deepEqual(p.conflictFirstFrames, [6]);
  const before = decodePcap(pcap).segments;
  const after = decodePcap(cut.pcap).segments;
  t.is(after.length, before.length, 'every frame is still there, so frame numbers do not move');
  for (const f of p.frames) {
    t.false(after[f - 1]!.payloadTruncated, `frame ${f} is whole`);
    t.deepEqual(after[f - 1]!.payload, before[f - 1]!.payload, `frame ${f} carries the captured bytes`);
  }
  const cutFrames = after.filter((s) => s.payloadTruncated).map((s) => s.index + 1);
  t.true(cutFrames.length >= 17, `the other data frames keep headers only (${cutFrames.length} cut)`);
  t.true(cutFrames.every((f) => !p.frames.includes(f)));
  t.true(small.pcapng.length < full.pcapng.length / 3, `${small.pcapng.length} vs ${full.pcapng.length} bytes`);
  t.is(cut.record.kept, 'trimmed');
});

const missing = tsharkUnavailableReason();
const tsharkTitle = 'tshark reads the reduced case.pcapng: the filter selects the proving frames with their whole payloads' +
  (missing ? ` [skipped: ${missing}]` : '');
(missing ? test.skip : test)(tsharkTitle, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-bundle-policy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = capture();
  const { reduced: small } = reduced(pcap);
  const fullFile = join(dir, 'full.pcap');
  const smallFile = join(dir, 'case.pcapng');
  writeFileSync(fullFile, pcap);
  writeFileSync(smallFile, small.pcapng);
  t.deepEqual(tsharkSelect(smallFile, small.pointers!.filter), small.pointers!.frames);
  const whole = new Map(tsharkFrames(fullFile).map((f) => [f.number, f]));
  for (const f of tsharkFrames(smallFile).filter((x) => small.pointers!.frames.includes(x.number))) {
    t.deepEqual(f.payload, whole.get(f.number)!.payload, `frame ${f.number}`);
    t.is(f.length, 1000);
  }
});
