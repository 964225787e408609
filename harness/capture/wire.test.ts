// WireCapture.collect over synthetic captures appended as tcpdump appends them: a case is collected only once its connection
// is finished on the wire (a late retransmission lands in its own case), the wait is bounded, the consumed part is freed.
import test from 'ava';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIpPacket, buildTcpPacket, wrapLinkLayer, writePcap, type BuildFlags } from '../../test-support/packet-builder.ts';
import { decodePcap } from './pcap.ts';
import type { CaptureCounters } from './tcpdump.ts';
import { WireCapture, type CaptureSource, type ConnectionTuple } from './wire.ts';

const SND = '127.0.0.1';
const RCV = '127.0.0.1';
const ISN = 1000;
const RISN = 900000;

interface Frame { tsUs: number; data: Buffer }
let clock = 1_700_000_000_000_000;
function tcp(conn: ConnectionTuple, fromSender: boolean, seq: number, ack: number, flags: BuildFlags, payload?: Buffer): Frame {
  const [src, srcPort, dst, dstPort] = fromSender
    ? [conn.src, conn.srcPort, conn.dst, conn.dstPort]
    : [conn.dst, conn.dstPort, conn.src, conn.srcPort];
  return { tsUs: (clock += 100), data: buildTcpPacket({ src, dst, srcPort, dstPort, seq, ack, flags, payload }) };
}
function sentinel(): Frame {
  const udp = Buffer.alloc(8 + 16);
  udp.writeUInt16BE(5353, 0);
  udp.writeUInt16BE(29999, 2);
  udp.writeUInt16BE(udp.length, 4);
  udp.write('zcprobe-sentinel', 8);
  return { tsUs: (clock += 100), data: wrapLinkLayer(buildIpPacket({ src: SND, dst: RCV, protocol: 17, body: udp })) };
}
const records = (frames: Frame[]): Buffer => writePcap(1, frames).subarray(24);

/** A capture whose flush() appends the next scripted batch (what tcpdump wrote meanwhile). */
class ScriptedCapture implements CaptureSource {
  flushes = 0;
  constructor(readonly file: string, private readonly batches: Frame[][]) {
    writeFileSync(file, writePcap(1, []));
  }
  async flush(): Promise<void> {
    const next = this.batches[this.flushes++] ?? [];
    appendFileSync(this.file, records([...next, sentinel()]));
  }
  async stats(): Promise<CaptureCounters> {
    return { captured: 0, receivedByFilter: 0, droppedByKernel: 0 };
  }
  async stop(): Promise<CaptureCounters> {
    return this.stats();
  }
}

function workFile(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `zcprobe-${process.pid}-wiretest-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'capture.pcap');
}

const pattern = (n: number, x = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => ((i % 251) + 1) ^ x));

/** Handshake + `data` in one segment + FIN from the sender. */
function opening(conn: ConnectionTuple, data: Buffer): Frame[] {
  return [
    tcp(conn, true, ISN, 0, { syn: true }),
    tcp(conn, false, RISN, ISN + 1, { syn: true, ack: true }),
    tcp(conn, true, ISN + 1, RISN + 1, { ack: true }),
    tcp(conn, true, ISN + 1, RISN + 1, { ack: true, psh: true }, data),
    tcp(conn, true, ISN + 1 + data.length, RISN + 1, { ack: true, fin: true }),
  ];
}
const finAck = (conn: ConnectionTuple, len: number): Frame => tcp(conn, false, RISN + 1, ISN + 1 + len + 1, { ack: true });

const A: ConnectionTuple = { src: SND, srcPort: 40001, dst: RCV, dstPort: 5000 };
const B: ConnectionTuple = { src: SND, srcPort: 40002, dst: RCV, dstPort: 5000 };

test('a late retransmission (after the first flush) is judged with its own case, not lost in the next chunk', async (t) => {
  const data = pattern(1000);
  const changed = Buffer.concat([data.subarray(0, 500), pattern(1000, 0xff).subarray(500)]);
  const other = tcp(B, true, 5, 5, { ack: true }, Buffer.from('noise')); // another connection in between
  const cap = new ScriptedCapture(workFile(t), [
    opening(A, data), // batch 1: sent, but the receiver has ACKed nothing yet
    // batch 2: RTO retransmission + final ACK
    [other, tcp(A, true, ISN + 1 + 500, RISN + 1, { ack: true }, changed.subarray(500)), finAck(A, 1000)],
    [],
    opening(B, pattern(10)), [finAck(B, 10)],
  ]);
  const wire = new WireCapture(cap, { iface: 'lo' });
  const a = await wire.collect(A, { finishTimeoutMs: 2000, pollMs: 1 });
  t.deepEqual(a.finished.ok, true);
  t.is(a.finished.reason, 'fin-acked');
  t.is(cap.flushes, 3, 'collect re-flushed until the connection was finished, then once more');
  t.is(a.stream.length, 1000);
  t.true(a.stream.bytes.equals(data), 'the first transmission decides the wire bytes');
  t.is(a.stream.conflicts.length, 1, 'the differing retransmission is in this case');
  const c = a.stream.conflicts[0]!;
  t.is(c.firstDifferenceAt, 500);
  // Packet numbers refer to the case's own pcap (the other connection and sentinels are not in it).
  const inCase = decodePcap(a.pcap).segments;
  t.is(inCase.length, a.packets);
  t.is(inCase[c.againPacket]!.seq, ISN + 1 + 500, 'againPacket is the retransmission in case.pcap');
  t.is(inCase[c.firstPacket]!.payloadLength, 1000);
  t.false(inCase.some((s) => s.srcPort === B.srcPort || s.dstPort === B.srcPort), 'only the case connection in its pcap');

  const b = await wire.collect(B, { finishTimeoutMs: 2000, pollMs: 1 });
  t.true(b.finished.ok);
  t.is(b.stream.length, 10);
  t.deepEqual(b.stream.conflicts, []);
  t.is(b.packets, 6, 'handshake, data, FIN and final ACK of B; nothing of A');
});

test('the finish wait is bounded: an unfinished connection is reported with what is missing', async (t) => {
  const cap = new ScriptedCapture(workFile(t), [opening(A, pattern(100))]);
  const wire = new WireCapture(cap, { iface: 'lo' });
  const a = await wire.collect(A, { finishTimeoutMs: 150, pollMs: 5 });
  t.false(a.finished.ok);
  t.regex(a.finished.reason, /not finished on the wire after \d+ ms: the receiver ACKed up to offset 0, not the sender's data \+ FIN \(offset 101\)/);
  t.true(a.finished.waitedMs >= 150 && a.finished.waitedMs < 1500, `waited ${a.finished.waitedMs} ms`);
  t.is(a.stream.length, 100, 'what was captured is still returned');

  const none = await new WireCapture(new ScriptedCapture(workFile(t), []), { iface: 'lo' }).collect(B, { finishTimeoutMs: 20, pollMs: 5 });
  t.false(none.finished.ok);
  t.regex(none.finished.reason, /no packet of the connection/);
});

test('an RST finishes a connection (after one more flush)', async (t) => {
  const cap = new ScriptedCapture(workFile(t), [[...opening(A, pattern(10)), tcp(A, false, RISN + 1, 0, { rst: true })]]);
  const a = await new WireCapture(cap, { iface: 'lo' }).collect(A, { finishTimeoutMs: 1000 });
  t.deepEqual([a.finished.ok, a.finished.reason], [true, 'rst']);
  t.is(cap.flushes, 2, 'one flush to see it finished, one to catch what the sender sent before the ACK');
});

test('the consumed part of the session file is freed: resident bytes stay bounded over many cases', async (t) => {
  const file = workFile(t);
  if (!file.startsWith('/dev/shm/')) return t.pass('no /dev/shm here: hole punching is checked on tmpfs only');
  const batches: Frame[][] = [];
  const conns: ConnectionTuple[] = [];
  const size = 256 * 1024;
  for (let i = 0; i < 20; i++) {
    const conn = { ...A, srcPort: 41000 + i };
    conns.push(conn);
    const segs: Frame[] = [tcp(conn, true, ISN, 0, { syn: true }), tcp(conn, false, RISN, ISN + 1, { syn: true, ack: true })];
    for (let off = 0; off < size; off += 65000) {
      segs.push(tcp(conn, true, ISN + 1 + off, RISN + 1, { ack: true }, pattern(Math.min(65000, size - off))));
    }
    segs.push(tcp(conn, true, ISN + 1 + size, RISN + 1, { ack: true, fin: true }), finAck(conn, size));
    batches.push(segs, []); // [] : the confirming flush after a finished case finds nothing new
  }
  const cap = new ScriptedCapture(file, batches);
  const wire = new WireCapture(cap, { iface: 'lo' });
  let peak = 0;
  for (const conn of conns) {
    const o = await wire.collect(conn, { finishTimeoutMs: 1000 });
    t.true(o.finished.ok, o.finished.reason);
    t.is(o.stream.length, size);
    peak = Math.max(peak, wire.storage().residentBytes);
  }
  const st = wire.storage();
  t.true(st.fileBytes > 20 * size, `the file's apparent size grew (${st.fileBytes})`);
  t.true(peak <= 2 * size, `resident bytes stayed ≤ 2 cases (peak ${peak}, file ${st.fileBytes})`);
  t.is(st.unbounded, null);

  const kept = new WireCapture(new ScriptedCapture(workFile(t), batches.slice(0, 6)), { iface: 'lo', keepFile: true });
  for (const conn of conns.slice(0, 3)) await kept.collect(conn, { finishTimeoutMs: 1000 });
  t.true(kept.storage().residentBytes >= 3 * size, 'keepFile keeps every byte');
});
