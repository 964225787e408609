// tshark against synthetic captures: the pcapng writer's output opens with the same frames and our comments; the oracle
// agrees with our decoder and reassembler (IPv4, IPv6, wrapping sequence numbers) or names the frame; filters select exactly their frames.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePcap } from './pcap.ts';
import { buildTcpPacket, writePcap } from '../../test-support/packet-builder.ts';
import { pcapToPcapng } from '../evidence/pcapng.ts';
import { reassemble } from './reassembly.ts';
import { captureFileComments, tsharkFollow, tsharkFrameComments, tsharkFrames, tsharkSelect, tsharkUnavailableReason } from '../../test-support/tshark.ts';
import { crossCheckWithTshark, type Direction } from '../../test-support/tshark-oracle.ts';
import { displayFilter, markFrames } from '../evidence/wireshark.ts';

const missing = tsharkUnavailableReason();
const tshark = missing ? test.skip : test.serial;
const title = (t: string) => (missing ? `${t} [skipped: ${missing}]` : t);

const dir = mkdtempSync(join(tmpdir(), 'zcprobe-tshark-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function save(buf: Buffer, ext = 'pcap'): string {
  const f = join(dir, `${++fileNo}.${ext}`);
  writeFileSync(f, buf);
  return f;
}

const A = (n: number, from = 0) => Buffer.from(Array.from({ length: n }, (_, i) => ((from + i) % 251) + 1));
const B = (n: number, from = 0) => Buffer.from(A(n, from).map((x) => x ^ 0xff));

/**
 * A connection sender → receiver: SYN, SYN-ACK, then `data` as [stream offset, bytes] in capture
 * order (so a repeated offset is a retransmission), an ACK after each, and FIN.
 */
function connection(c: Direction, isn: number, data: [number, Buffer][]): Buffer {
  const back = { src: c.dst, dst: c.src, srcPort: c.dstPort, dstPort: c.srcPort };
  let ts = 1_700_000_000_000_000;
  const pkts: { tsUs: number; data: Buffer }[] = [];
  const push = (o: Parameters<typeof buildTcpPacket>[0]) => pkts.push({ tsUs: (ts += 137), data: buildTcpPacket(o) });
  push({ ...c, seq: isn, flags: { syn: true } });
  push({ ...back, seq: 5000, ack: (isn + 1) >>> 0, flags: { syn: true, ack: true } });
  let end = 0;
  for (const [off, bytes] of data) {
    push({ ...c, seq: (isn + 1 + off) >>> 0, ack: 5001, flags: { ack: true, psh: true }, payload: bytes });
    end = Math.max(end, off + bytes.length);
    push({ ...back, seq: 5001, ack: (isn + 1 + end) >>> 0 });
  }
  push({ ...c, seq: (isn + 1 + end) >>> 0, ack: 5001, flags: { fin: true, ack: true } });
  return writePcap(1, pkts);
}

const V4: Direction = { src: '10.1.0.1', srcPort: 40001, dst: '10.1.0.2', dstPort: 8080 };
const V6: Direction = { src: 'fd00:1::1', srcPort: 40002, dst: 'fd00:1::2', dstPort: 8080 };

// 0..1000 sent, then 1000..3000 mutated in flight; 500..1500 retransmitted with new bytes
// (differs from two earlier frames), and 0..300 retransmitted unchanged.
const DATA: [number, Buffer][] = [
  [0, A(1000)],
  [1000, Buffer.concat([A(200, 1000), B(1800, 1200)])],
  [500, B(1000, 500)],
  [0, A(300)],
];

tshark(title('pcapng: tshark reads the same frames and timestamps as from the classic pcap, and prints every comment'), (t) => {
  const pcap = connection(V4, 1000, DATA);
  const frameComments = new Map([[2, ['first, with a comma', 'second "quoted" — ünïcode']], [6, ['one more']]]);
  const sectionComments = ['zcprobe case X: vmsplice', 'verdict: corrupted-on-wire'];
  const ng = save(pcapToPcapng(pcap, { sectionComments, frameComments, os: 'Linux test', application: 'zcprobe test', interfaceName: 'lo' }), 'pcapng');
  const classic = save(pcap);
  t.deepEqual(tsharkFrames(ng), tsharkFrames(classic));
  t.deepEqual([...tsharkFrameComments(ng)], [[3, frameComments.get(2)], [7, frameComments.get(6)]]);
  t.deepEqual(captureFileComments(ng), sectionComments);
  t.throws(() => pcapToPcapng(pcap, { frameComments: new Map([[99, ['x']]]) }), { message: /record 99/ });
});

tshark(title('pcapng keeps nanosecond timestamps'), (t) => {
  const pcap = Buffer.from(connection(V4, 1, [[0, A(10)]]));
  // Turn the microsecond file into a nanosecond one: magic, then each fraction ×1000 + 7 ns.
  pcap.writeUInt32LE(0xa1b23c4d, 0);
  for (let o = 24; o < pcap.length; o += 16 + pcap.readUInt32LE(o + 8)) pcap.writeUInt32LE(pcap.readUInt32LE(o + 4) * 1000 + 7, o + 4);
  const classic = tsharkFrames(save(pcap));
  const ng = tsharkFrames(save(pcapToPcapng(pcap), 'pcapng'));
  t.deepEqual(ng, classic);
  t.is(ng[0]!.tsUs, 1_700_000_000_000_137);
});

for (const [name, c, isn] of [['IPv4', V4, 1000], ['IPv6', V6, 77], ['IPv4, sequence numbers wrapping past 2^32', V4, 0xffffff00]] as const) {
  tshark(title(`oracle: ${name} capture with a differing and an identical retransmission — tshark and zcprobe agree`), (t) => {
    const pcap = connection(c, isn, DATA);
    const r = crossCheckWithTshark(save(pcap), pcap, c);
    t.deepEqual(r.disagreements, []);
    t.is(r.frames, 2 + 2 * DATA.length + 1);
    t.is(r.payloadBytes, 1000 + 2000 + 1000 + 300);
    t.is(r.streamBytes, 3000);
    // frame 7 (500..1499, new bytes) differs from frames 3 and 5; frame 9 repeats 0..299 of frame 3.
    t.is(r.retransmissions, 3);
    t.is(r.conflicts, 2);
  });
}

tshark(title('oracle: a decoder that got one payload byte wrong is named by its frame'), (t) => {
  const pcap = connection(V4, 1000, DATA);
  const file = save(pcap);
  const wrong = Buffer.from(pcap);
  const seg = decodePcap(wrong).segments[4]!; // frame 5: offsets 1000..2999
  wrong[seg.payload.byteOffset - wrong.byteOffset + 10]! ^= 0x01;
  const r = crossCheckWithTshark(file, wrong, V4);
  t.true(r.disagreements.some((d) => d.startsWith('frame 5: payload')), r.disagreements.join('\n'));
  t.true(r.disagreements.some((d) => d.startsWith('frame 5 (stream offset 1010)')), r.disagreements.join('\n'));
});

tshark(title('oracle: a verdict stream whose packet numbers are not the file\'s frames is a disagreement naming the frame'), (t) => {
  const pcap = connection(V4, 1000, DATA);
  // As if the capture had held one more packet before this connection: every index shifted by 1.
  const shifted = decodePcap(pcap).segments.map((s) => ({ ...s, index: s.index + 1 }));
  const used = reassemble(shifted, V4);
  const r = crossCheckWithTshark(save(pcap), pcap, V4, used);
  t.true(r.disagreements.some((d) => d.startsWith('frame 7: tshark-based reassembly has frame 7 over frame 3')), r.disagreements.join('\n'));
  t.true(r.disagreements.some((d) => d.startsWith("frame 8: the verdict's stream has frame 8 over frame 4")), r.disagreements.join('\n'));
});

tshark(title('Follow TCP Stream (tshark) is the first transmission: the retransmitted new bytes are not in it'), (t) => {
  const pcap = connection(V6, 5, DATA);
  const f = tsharkFollow(save(pcap));
  t.is(f.client, `[fd00:1::1]:${V6.srcPort}`);
  t.deepEqual(f.clientBytes, Buffer.concat([A(1200), B(1800, 1200)]));
});

tshark(title('marks: the filter selects exactly the first mutated frame and the differing retransmissions with their originals'), (t) => {
  const pcap = connection(V4, 1000, DATA);
  const intended = A(3000);
  const marks = markFrames({ pcap, connection: V4, intended, mutated: B(3000), receivedFirstOffset: 0 });
  const p = marks.pointers!;
  // frame 5 carries 1200.. mutated; frame 7 retransmits 500..1499 differently from frames 3 and 5.
  t.is(p.firstMutatedFrame, 5);
  t.deepEqual(p.conflictFrames, [7, 7]);
  t.deepEqual(p.conflictFirstFrames, [3, 5], 'frame 7 differs from two earlier frames');
  t.is(p.receiverDiffFrame, 3, 'offset 0 went out intact in frame 3');
  t.deepEqual(p.frames, [3, 5, 7]);
  const file = save(pcapToPcapng(pcap, { frameComments: new Map([...marks.comments].map(([f, c]) => [f - 1, c])) }), 'pcapng');
  t.deepEqual(tsharkSelect(file, p.filter), p.frames);
  t.deepEqual(tsharkSelect(save(pcap), p.filter), p.frames, 'the same filter on case.pcap');
  const comments = tsharkFrameComments(file);
  t.deepEqual([...comments.keys()], [3, 5, 7]);
  t.regex(comments.get(5)![0]!, /^zcprobe: first frame carrying bytes that differ .* stream offsets 1000–2999; 1800 of them differ \(offsets 1200–2999\), 1800 equal the mutation pattern\.$/);
  t.regex(comments.get(7)!.join('\n'), /retransmission whose bytes differ from the first transmission \(frame 3\): stream offsets 500–999, 500 bytes differ/);
  t.regex(comments.get(7)!.join('\n'), /\(frame 5\): stream offsets 1000–1499, 200 bytes differ, the first at offset 1000/);
  t.regex(comments.get(3)!.join('\n'), /carried stream offset 0 with the intended byte \(0x01\)/);
});

tshark(title('marks: an identical retransmission and a clean stream mark nothing'), (t) => {
  const pcap = connection(V4, 9, [[0, A(100)], [0, A(100)]]);
  const m = markFrames({ pcap, connection: V4, intended: A(100), mutated: B(100), receivedFirstOffset: null });
  t.is(m.pointers, null);
  t.is(m.comments.size, 0);
});

test('displayFilter: one equality per frame, deduplicated and sorted; none is an error', (t) => {
  t.is(displayFilter([9, 3, 9]), 'frame.number == 3 || frame.number == 9');
  t.throws(() => displayFilter([]));
});

test('marks: notes from elsewhere (a relay\'s dropped or delayed frames) become comments, not filter frames', (t) => {
  const pcap = connection(V4, 9, [[0, A(100)], [100, B(100, 100)]]);
  const m = markFrames({ pcap, connection: V4, intended: A(200), mutated: B(200), receivedFirstOffset: null, notes: [{ frame: 3, text: 'relay: delayed 20 ms' }] });
  t.deepEqual(m.comments.get(3), ['relay: delayed 20 ms']);
  t.deepEqual(m.pointers?.frames, [5]);
});
