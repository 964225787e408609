// The evidence size policy: small slices are kept byte for byte; a large one keeps whole frames
// around the focus (and every frame without sender payload) and only the headers of the rest.
import test from 'ava';
import { buildTcpPacket, writePcap } from '../../test-support/packet-builder.ts';
import { decodePcap } from '../capture/pcap.ts';
import { reassemble } from '../capture/reassembly.ts';
import { evidencePcap, focusOf } from './trimmed-pcap.ts';

const conn = { src: '10.255.0.1', srcPort: 40000, dst: '10.255.0.2', dstPort: 5000 };
const ISN = 4294960000; // wraps within the stream
const SEG = 60000;

function capture(size: number): Buffer {
  const frames: Buffer[] = [];
  const from = (fromSender: boolean, seq: number, ack: number, flags: object, payload?: Buffer) =>
    frames.push(buildTcpPacket({
      ...(fromSender ? conn : { src: conn.dst, srcPort: conn.dstPort, dst: conn.src, dstPort: conn.srcPort }),
      seq, ack, flags, payload,
    }));
  from(true, ISN, 0, { syn: true });
  from(false, 7, ISN + 1, { syn: true, ack: true });
  for (let off = 0; off < size; off += SEG) {
    const payload = Buffer.alloc(Math.min(SEG, size - off), off / SEG);
    from(true, (ISN + 1 + off) >>> 0, 8, { ack: true }, payload);
    from(false, 8, (ISN + 1 + off + payload.length) >>> 0, { ack: true });
  }
  from(true, (ISN + 1 + size) >>> 0, 8, { ack: true, fin: true });
  return writePcap(1, frames.map((data, i) => ({ tsUs: 1e15 + i, data })));
}

test('a slice within the limit is the evidence as captured', (t) => {
  const slice = capture(1 << 20);
  const r = evidencePcap(slice, conn, { isn: ISN, sawSyn: true }, [{ start: 5, end: 6, why: 'x' }], { wholeUpToBytes: 2 << 20, contextBytes: 0 });
  t.is(r.pcap, slice);
  t.like(r.record, { kept: 'whole', capturedBytes: slice.length, keptBytes: slice.length });
});

test('a large slice keeps whole frames around the focus and the headers of the rest', (t) => {
  const size = 6 << 20;
  const slice = capture(size);
  const at = 3_000_123;
  const r = evidencePcap(slice, conn, { isn: ISN, sawSyn: true }, [{ start: at, end: at + 1, why: 'first differing byte' }], { wholeUpToBytes: 1 << 20, contextBytes: 100_000 });
  t.is(r.record.kept, 'trimmed');
  t.true(r.pcap.length < slice.length / 10, `${r.pcap.length} bytes kept of ${slice.length}`);
  const all = decodePcap(slice).segments;
  const kept = decodePcap(r.pcap).segments;
  t.is(kept.length, all.length, 'every frame is still there (as headers at least)');
  t.deepEqual(kept.map((s) => [s.seq, s.ack, s.payloadLength]), all.map((s) => [s.seq, s.ack, s.payloadLength]), 'headers are intact');
  t.is(r.record.fullFrames! + r.record.headerOnlyFrames!, all.length);
  // Reassembling the trimmed evidence: the focus and its context are real bytes, the rest uncaptured.
  const s = reassemble(kept, conn);
  t.true(s.sawSyn && s.sawFin);
  t.is(s.extent, size);
  t.true(s.gaps.filter((g) => g.kind === 'uncaptured').length >= 2, 'uncaptured before and after the focus');
  t.false(s.gaps.some((g) => g.start <= at && at < g.end), 'the focus byte is captured');
  t.true(s.gaps.every((g) => g.kind === 'uncaptured'), 'nothing is "missing": headers say what was sent');
  const full = kept.filter((x) => !x.payloadTruncated && x.payloadLength > 0);
  t.true(full.every((x) => Math.abs(((x.seq - ISN - 1) | 0) - at) < 100_000 + SEG), 'whole payloads only near the focus');
});

test('focusOf: W and R first offsets and each differing retransmission', (t) => {
  const conflict = { seqStart: 100, seqEnd: 200, firstPacket: 3, againPacket: 9, firstTsUs: 0, againTsUs: 1, identical: false };
  const f = focusOf(10, null, { conflicts: [conflict] });
  t.deepEqual(f.map((x) => [x.start, x.end]), [[10, 11], [100, 200]]);
  t.regex(f[1]!.why, /packet 9\) differs from packet 3/);
});
