import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodePcap, slicePcap, type TcpFlags, type TcpSegment } from './pcap.ts';
import { writePcap } from '../../test-support/packet-builder.ts';
import { buildTcpPacket } from '../../test-support/packet-builder.ts';
import { reassemble } from './reassembly.ts';

const A = { src: '10.0.0.1', srcPort: 40000, dst: '10.0.0.2', dstPort: 80 };
const B = { src: A.dst, srcPort: A.dstPort, dst: A.src, dstPort: A.srcPort };

let nextIndex = 0;
/** A decoded segment in direction A unless `dir` says otherwise; index = capture order. */
function seg(seq: number, payload: string | Buffer, more: Partial<TcpSegment> & { f?: Partial<TcpFlags> } = {}): TcpSegment {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const index = more.index ?? nextIndex++;
  return {
    index, fileOffset: 0, tsUs: 1000 + index, ...A, seq: seq >>> 0, ack: 0, window: 512,
    payload: p, payloadLength: p.length, payloadTruncated: false,
    ...more,
    flags: { syn: false, ack: true, fin: false, rst: false, psh: false, ...more.f },
  };
}
const syn = (isn: number) => seg(isn, '', { f: { syn: true, ack: false } });

test('in-order stream after SYN, with FIN', (t) => {
  const r = reassemble([syn(1000), seg(1001, 'abc'), seg(1004, 'def'), seg(1007, '', { f: { fin: true } })], A);
  t.is(r.isn, 1000);
  t.true(r.sawSyn);
  t.true(r.sawFin);
  t.false(r.sawRst);
  t.is(r.bytes.toString(), 'abcdef');
  t.is(r.length, 6);
  t.is(r.extent, 6);
  t.deepEqual(r.gaps, []);
  t.deepEqual(r.retransmissions, []);
});

test('out-of-order segments are placed by sequence number; timestamps follow the carrying packet', (t) => {
  const late = seg(1004, 'def', { index: 10, tsUs: 50 });
  const early = seg(1001, 'abc', { index: 11, tsUs: 60 });
  const r = reassemble([early, syn(1000), late], A); // input order does not matter, index does
  t.is(r.bytes.toString(), 'abcdef');
  t.is(r.firstTsUsAt(0), 60);
  t.is(r.firstTsUsAt(4), 50);
  t.is(r.firstTsUsAt(6), undefined);
});

test('ISN near 2^32 wraps correctly', (t) => {
  const isn = 0xfffffff0;
  const data = randomBytes(64);
  // Segments of 16 bytes starting at isn+1; the second one straddles 2^32.
  const segs = [syn(isn)];
  for (let off = 0; off < 64; off += 16) segs.push(seg(isn + 1 + off, data.subarray(off, off + 16)));
  const r = reassemble([segs[0]!, segs[3]!, segs[1]!, segs[4]!, segs[2]!], A);
  t.is(r.isn, isn);
  t.deepEqual(r.bytes, data);
  t.deepEqual(r.gaps, []);
  // Without the SYN the lowest sequence number (in serial arithmetic) is the start.
  const noSyn = reassemble([segs[3]!, segs[4]!, segs[1]!, segs[2]!], A);
  t.is(noSyn.isn, (isn + 1) >>> 0);
  t.false(noSyn.sawSyn);
  t.deepEqual(noSyn.bytes, data);
});

test('identical retransmission is recorded but is not a conflict', (t) => {
  const r = reassemble([syn(0), seg(1, 'hello', { index: 1, tsUs: 10 }), seg(1, 'hello', { index: 5, tsUs: 99 })], A);
  t.is(r.bytes.toString(), 'hello');
  t.deepEqual(r.retransmissions, [
    { seqStart: 0, seqEnd: 5, firstPacket: 1, againPacket: 5, firstTsUs: 10, againTsUs: 99, identical: true },
  ]);
  t.deepEqual(r.conflicts, []);
});

test('differing retransmission is a conflict with both versions; the first transmission wins', (t) => {
  const r = reassemble([syn(0), seg(1, 'hello world', { index: 1 }), seg(7, 'W0rld', { index: 2 })], A);
  t.is(r.bytes.toString(), 'hello world');
  t.is(r.conflicts.length, 1);
  const c = r.conflicts[0]!;
  t.like(c, { seqStart: 6, seqEnd: 11, firstPacket: 1, againPacket: 2, identical: false, firstDifferenceAt: 6, differingBytes: 2 });
  t.is(c.firstBytes!.toString(), 'world');
  t.is(c.againBytes!.toString(), 'W0rld');
  t.is(r.retransmissions[0], c);
});

test('a retransmission spanning two earlier segments is compared against each', (t) => {
  const r = reassemble([
    syn(0),
    seg(1, 'AAAA', { index: 1 }),
    seg(5, 'BBBB', { index: 2 }),
    seg(3, 'AAxBBBCCCC', { index: 3 }), // offsets 2..12: matches A, differs in B, extends the stream
  ], A);
  t.is(r.bytes.toString(), 'AAAABBBBCCCC');
  t.is(r.retransmissions.length, 2);
  t.like(r.retransmissions[0], { seqStart: 2, seqEnd: 4, firstPacket: 1, againPacket: 3, identical: true });
  t.like(r.retransmissions[1], { seqStart: 4, seqEnd: 8, firstPacket: 2, againPacket: 3, identical: false, firstDifferenceAt: 4 });
  t.is(r.retransmissions[1]!.againBytes!.toString(), 'xBBB');
  t.is(r.conflicts.length, 1);
  t.is(r.firstTsUsAt(9), 1003); // bytes 8..12 first crossed in packet 3
});

test('overlaps are reported per first-transmitting packet, even when interleaved', (t) => {
  // Packet 2 surrounds packet 1, so its first-transmitted bytes are [0,2) and [4,6); packet 3 re-sends all.
  const r = reassemble([seg(2, 'bb', { index: 1 }), seg(0, 'aabbcc', { index: 2 }), seg(0, 'aabbcc', { index: 3 })], A);
  t.is(r.bytes.toString(), 'aabbcc');
  t.deepEqual(
    r.retransmissions.map((x) => [x.firstPacket, x.againPacket, x.seqStart, x.seqEnd]),
    [[1, 2, 2, 4], [2, 3, 0, 2], [1, 3, 2, 4], [2, 3, 4, 6]],
  );
  t.is(r.firstTsUsAt(0), 1002);
  t.is(r.firstTsUsAt(2), 1001);
});

test('gaps are detected, including a missing tail before the FIN', (t) => {
  const r = reassemble([syn(0), seg(1, 'abc'), seg(7, 'ghi'), seg(13, '', { f: { fin: true } })], A);
  t.is(r.bytes.toString(), 'abc');
  t.is(r.length, 3);
  t.is(r.extent, 12);
  t.deepEqual(r.gaps, [{ start: 3, end: 6, kind: 'missing' }, { start: 9, end: 12, kind: 'missing' }]);
});

test('snaplen-truncated payloads leave an uncaptured gap that later packets never fill', (t) => {
  const cut = seg(1, 'abcd', { payloadLength: 10, payloadTruncated: true });
  const r = reassemble([syn(0), cut, seg(11, 'KLM'), seg(1, 'abcdefghij')], A);
  t.is(r.truncatedPayloads, 1);
  t.is(r.bytes.toString(), 'abcd');
  t.deepEqual(r.gaps, [{ start: 4, end: 10, kind: 'uncaptured' }]);
  t.is(r.uncomparedOverlaps, 1); // the retransmission could not be checked against unknown bytes
  t.is(r.retransmissions.length, 1); // only the captured prefix 'abcd' was comparable
  t.is(r.firstTsUsAt(5), cut.tsUs); // the bytes did cross the wire in that packet
});

test('only the requested direction is reassembled', (t) => {
  const r = reassemble([syn(0), seg(1, 'to-server'), seg(500, 'to-client', { ...B }), seg(0, '', { ...B, f: { rst: true } })], A);
  t.is(r.bytes.toString(), 'to-server');
  t.false(r.sawRst);
  t.true(reassemble([seg(0, '', { ...B, f: { rst: true } })], B).sawRst);
  t.deepEqual(reassemble([], A).bytes.length, 0);
});

test('16 MiB in shuffled 64 KiB segments with retransmissions is fast and exact', (t) => {
  const total = 16 << 20;
  const step = 64 << 10;
  const data = randomBytes(total);
  const isn = 0xffff0000; // wraps inside the stream
  const segs: TcpSegment[] = [seg(isn, '', { index: 0, f: { syn: true, ack: false } })];
  const order = Array.from({ length: total / step }, (_, i) => i).sort(() => Math.random() - 0.5);
  let index = 1;
  for (const i of order) segs.push(seg(isn + 1 + i * step, data.subarray(i * step, (i + 1) * step), { index: index++ }));
  for (let i = 0; i < 8; i++) segs.push(seg(isn + 1 + i * step + 100, data.subarray(i * step + 100, (i + 2) * step), { index: index++ }));
  const t0 = performance.now();
  const r = reassemble(segs, A);
  const ms = performance.now() - t0;
  t.true(r.bytes.equals(data));
  t.is(r.conflicts.length, 0);
  t.is(r.retransmissions.length, 16);
  t.true(ms < 2000, `took ${ms} ms`);
});

test('end to end: built IPv6/SLL2 capture → decode → reassemble', (t) => {
  const c = { src: 'fd00::1', dst: 'fd00::2', srcPort: 5555, dstPort: 6666, linkType: 276 };
  const frames = [
    buildTcpPacket({ ...c, seq: 0xfffffffe, flags: { syn: true } }),
    buildTcpPacket({ ...c, seq: 0xffffffff, payload: Buffer.from('zero') }),
    buildTcpPacket({ ...c, seq: 3, payload: Buffer.from('copy') }),
    buildTcpPacket({ ...c, seq: 3, payload: Buffer.from('COPY') }), // buffer reused too early
  ];
  const d = decodePcap(writePcap(276, frames.map((data, i) => ({ tsUs: i, data }))));
  const r = reassemble(d.segments, c);
  t.is(r.bytes.toString(), 'zerocopy');
  t.like(r.conflicts[0], { seqStart: 4, seqEnd: 8, firstPacket: 2, againPacket: 3 });
});

// A real capture: only possible with tcpdump and root (CAP_NET_RAW). Decided at registration.
const tcpdumpSkip = spawnSync('which', ['tcpdump']).status !== 0
  ? 'tcpdump not found'
  : process.getuid?.() !== 0 ? 'not running as root' : undefined;
if (tcpdumpSkip) console.log(`skipping live tcpdump test: ${tcpdumpSkip}`);
(tcpdumpSkip ? test.skip : test)(`live tcpdump capture on lo reassembles to the bytes sent${tcpdumpSkip ? ` (skipped: ${tcpdumpSkip})` : ''}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zcprobe-pcap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lo.pcap');
  const received: Buffer[] = [];
  const server = createServer((sock) => {
    sock.on('data', (b) => received.push(b));
    sock.on('end', () => sock.end());
  });
  t.teardown(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  const tcpdump = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-B', '65536', '-Z', 'root', '-w', file, 'tcp', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = once(tcpdump, 'exit');
  t.teardown(() => {
    if (tcpdump.exitCode === null && tcpdump.signalCode === null) tcpdump.kill('SIGKILL');
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start listening: ${stderr}`)), 10_000);
    tcpdump.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('listening on')) { clearTimeout(timer); resolve(); }
    });
    tcpdump.on('exit', (code) => { clearTimeout(timer); reject(new Error(`tcpdump exited (${code}): ${stderr}`)); });
  });

  const sent = randomBytes(3 << 20);
  const client = createConnection(port, '127.0.0.1');
  await once(client, 'connect');
  const clientPort = client.localPort!;
  client.end(sent);
  await once(client, 'close');
  await sleep(200); // -U writes each packet promptly; give the last ACK/FIN a moment anyway
  tcpdump.kill('SIGINT');
  await exited;
  // Buffer.equals, not t.deepEqual: ava's deep diffing of megabyte buffers takes seconds.
  t.true(Buffer.concat(received).equals(sent), 'sanity: the socket delivered everything');

  const d = decodePcap(readFileSync(file));
  t.is(d.linkType, 1);
  const up = { src: '127.0.0.1', srcPort: clientPort, dst: '127.0.0.1', dstPort: port };
  const r = reassemble(d.segments, up);
  t.true(r.sawSyn);
  t.true(r.sawFin);
  t.deepEqual(r.gaps, []);
  t.deepEqual(r.conflicts, []);
  t.is(r.truncatedPayloads, 0);
  t.true(r.bytes.equals(sent), `reassembled ${r.length} of ${sent.length} bytes`);
  t.is(reassemble(d.segments, { src: up.dst, srcPort: up.dstPort, dst: up.src, dstPort: up.srcPort }).length, 0);
  const only = decodePcap(slicePcap(readFileSync(file), (s) => s.srcPort === clientPort));
  t.is(only.segments.length, d.segments.filter((s) => s.srcPort === clientPort).length);
  t.log(`${d.packetCount} packets, ${d.segments.length} TCP segments, largest payload ${Math.max(...d.segments.map((s) => s.payloadLength))} bytes`);
});
