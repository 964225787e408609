import test from 'ava';
import { decodePcap, formatIPv6, PcapDecodeError, slicePcap, type TcpSegment } from './pcap.ts';
import { writePcap } from '../../test-support/packet-builder.ts';
import { buildIpPacket, buildTcpPacket, parseIp, wrapLinkLayer } from '../../test-support/packet-builder.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Real records written by tcpdump 4.99.3 / libpcap 1.10.3 on Linux (little-endian files),
// one data packet each, so the decoder is checked against bytes it did not produce itself.
const LO_GLOBAL = hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000'); // EN10MB, snaplen 262144
const LO_V4_RECORD = hex(`3095046b 6ae50d00 4d000000 4d000000
  000000000000 000000000000 0800
  4500003f 02154000 40063aa2 7f000001 7f000001
  d370b26e 6ea6dafa 828cb8be 80180040 fe330000 0101080a 55425037 89d2a677
  68656c6c6f20776f726c64`);
const LO_V6_RECORD = hex(`3895046b 1d6e0e00 60000000 60000000
  000000000000 000000000000 86dd
  6003cfaf 002a0640 00000000000000000000000000000001 00000000000000000000000000000001
  80f0b26f 2758faf2 80fd4364 80180040 00320000 0101080a 59cae369 e11d21c4
  6869207a6370726f6265`);
const SLL2_GLOBAL = hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 14010000'); // LINUX_SLL2 (276)
const SLL2_RECORD = hex(`3a95046b a0920800 52000000 52000000
  0800 0000 00000001 0304 00 06 0000000000000000
  4500003e 15f24000 400626c6 7f000001 7f000001
  c542b270 090e5876 788a8426 80180040 fe320000 0101080a 3bfaac08 cba56f58
  6869207a6370726f6265`);
const SLL_GLOBAL = hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 71000000'); // LINUX_SLL (113)
const SLL_RECORD = hex(`3c95046b 37fb0200 4e000000 4e000000
  0000 0304 0006 0000000000000000 0800
  4500003e d5a34000 40066714 7f000001 7f000001
  e796b271 f07f3fb5 07dd786d 80180040 fe320000 0101080a 86989fbe a2bb49fe
  6869207a6370726f6265`);

function only(buf: Buffer): TcpSegment {
  const d = decodePcap(buf);
  if (d.segments.length !== 1) throw new Error(`expected one segment, got ${d.segments.length}`);
  return d.segments[0]!;
}

function errorOf(fn: () => unknown): PcapDecodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PcapDecodeError) return e;
    throw e;
  }
  throw new Error('expected a PcapDecodeError');
}

test('EN10MB IPv4 record from tcpdump on lo', (t) => {
  const d = decodePcap(Buffer.concat([LO_GLOBAL, LO_V4_RECORD]));
  t.is(d.linkType, 1);
  t.is(d.snaplen, 262144);
  t.is(d.packetCount, 1);
  t.false(d.truncatedTail);
  const s = d.segments[0]!;
  t.like(s, {
    index: 0, fileOffset: 24, tsUs: 0x6b049530 * 1e6 + 910698,
    src: '127.0.0.1', dst: '127.0.0.1', srcPort: 54128, dstPort: 45678,
    seq: 0x6ea6dafa, ack: 0x828cb8be, window: 64, payloadLength: 11, payloadTruncated: false,
  });
  t.deepEqual(s.flags, { syn: false, ack: true, fin: false, rst: false, psh: true });
  t.is(s.payload.toString(), 'hello world'); // after 12 bytes of TCP timestamp options
});

test('EN10MB IPv6 record from tcpdump on lo', (t) => {
  const s = only(Buffer.concat([LO_GLOBAL, LO_V6_RECORD]));
  t.like(s, { src: '::1', dst: '::1', srcPort: 33008, dstPort: 45679, seq: 0x2758faf2, payloadLength: 10 });
  t.is(s.payload.toString(), 'hi zcprobe');
});

test('LINUX_SLL2 record from tcpdump -i any', (t) => {
  const s = only(Buffer.concat([SLL2_GLOBAL, SLL2_RECORD]));
  t.like(s, { src: '127.0.0.1', srcPort: 50498, dstPort: 45680, seq: 0x090e5876, ifIndex: 1, outgoing: false });
  t.is(s.payload.toString(), 'hi zcprobe');
});

test('LINUX_SLL record from tcpdump -i any -y LINUX_SLL', (t) => {
  const s = only(Buffer.concat([SLL_GLOBAL, SLL_RECORD]));
  t.like(s, { src: '127.0.0.1', srcPort: 59286, dstPort: 45681, seq: 0xf07f3fb5, outgoing: false });
  t.is(s.payload.toString(), 'hi zcprobe');
});

test('802.1Q and stacked VLAN tags are skipped (hand-built Ethernet header)', (t) => {
  const ip = LO_V4_RECORD.subarray(16 + 14); // the IPv4 packet of the real lo record
  const oneTag = Buffer.concat([hex('020000000001 020000000002 8100 0064 0800'), ip]);
  const twoTags = Buffer.concat([hex('020000000001 020000000002 88a8 0005 8100 0064 0800'), ip]);
  for (const frame of [oneTag, twoTags]) {
    const s = only(writePcap(1, [{ tsUs: 1, data: frame }]));
    t.is(s.payload.toString(), 'hello world');
    t.is(s.dstPort, 45678);
  }
});

test('big-endian files and nanosecond timestamps decode', (t) => {
  const frame = buildTcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2, seq: 7, payload: Buffer.from('x') });
  const be = writePcap(1, [{ tsUs: 1_700_000_000_123_456, data: frame }], 65535, { bigEndian: true });
  t.is(be.readUInt32BE(0), 0xa1b2c3d4);
  t.is(only(be).tsUs, 1_700_000_000_123_456);
  t.is(decodePcap(be).snaplen, 65535);
  const nano = Buffer.from(be);
  nano.writeUInt32BE(0xa1b23c4d, 0);
  nano.writeUInt32BE(123_456_789, 24 + 4);
  t.is(only(nano).tsUs, 1_700_000_000 * 1e6 + 123_456);
});

test('TCP options, IPv4 options and Ethernet padding are respected', (t) => {
  const tcpOptions = hex('020405b4 0103030a 0402 080a 0000000100000002 0000'); // MSS, wscale, SACK-perm, TS
  const payload = Buffer.from('pp');
  const frame = buildTcpPacket({
    src: '192.168.1.1', dst: '192.168.1.2', srcPort: 5000, dstPort: 80, seq: 1, tcpOptions,
    ipv4Options: hex('01010101'), payload, padding: 8, // frame padded like a short Ethernet frame
  });
  const s = only(writePcap(1, [{ tsUs: 5, data: frame }]));
  t.is(s.payloadLength, 2);
  t.deepEqual(s.payload, payload); // padding bytes are not payload
  t.false(s.payloadTruncated);
});

test('IPv6 extension headers are walked; fragments are counted, not decoded', (t) => {
  const opts = { src: '2001:db8::1', dst: 'fe80::2', srcPort: 443, dstPort: 40000, seq: 9, payload: Buffer.from('v6!') };
  const ext = buildTcpPacket({
    ...opts,
    ipv6ExtHeaders: [
      { type: 0, body: hex('010400000000') }, // hop-by-hop, PadN
      { type: 60, body: hex(`010c${'00'.repeat(12)}`) }, // 16-byte destination options (PadN)
      { type: 43, body: hex('000000000000') }, // routing, no segments left
    ],
  });
  const frag = buildTcpPacket({ ...opts, ipv6ExtHeaders: [{ type: 44, body: hex('000100000001') }] });
  const v4frag = buildTcpPacket({ ...opts, src: '10.0.0.1', dst: '10.0.0.2', fragmentOffset: 10 });
  const v4first = buildTcpPacket({ ...opts, src: '10.0.0.1', dst: '10.0.0.2', moreFragments: true });
  const d = decodePcap(writePcap(1, [ext, frag, v4frag, v4first].map((data, i) => ({ tsUs: i, data }))));
  t.is(d.segments.length, 1);
  t.like(d.segments[0], { src: '2001:db8::1', dst: 'fe80::2', index: 0, payloadLength: 3 });
  t.is(d.segments[0]!.payload.toString(), 'v6!');
  t.is(d.skipped.fragments, 3);
  t.is(d.packetCount, 4);
});

test('non-TCP packets (UDP, ARP, ICMPv6) are counted and skipped', (t) => {
  const udp = wrapLinkLayer(buildIpPacket({ src: '127.0.0.1', dst: '127.0.0.1', protocol: 17, body: hex('0035 0035 000a 0000 6869') }));
  const arp = hex('ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002');
  const icmp6 = wrapLinkLayer(buildIpPacket({ src: '::1', dst: '::1', protocol: 58, body: hex('8000 0000 0001 0001') }), { linkType: 276 });
  const tcp = buildTcpPacket({ src: '127.0.0.1', dst: '127.0.0.1', srcPort: 1, dstPort: 2, seq: 3 });
  const d = decodePcap(writePcap(1, [udp, arp, tcp].map((data, i) => ({ tsUs: i, data }))));
  t.is(d.skipped.nonTcp, 2);
  t.is(d.segments.length, 1);
  t.is(d.segments[0]!.index, 2);
  t.is(decodePcap(writePcap(276, [{ tsUs: 0, data: icmp6 }])).skipped.nonTcp, 1);
});

test('snaplen truncation is flagged, never hidden', (t) => {
  const payload = Buffer.alloc(1000, 0xab);
  const frame = buildTcpPacket({ src: '::1', dst: '::1', srcPort: 1, dstPort: 2, seq: 3, payload, linkType: 113 });
  const headerLen = frame.length - payload.length;
  const cut = frame.subarray(0, headerLen + 100);
  const s = only(writePcap(113, [{ tsUs: 0, data: cut, origLen: frame.length }], headerLen + 100));
  t.true(s.payloadTruncated);
  t.is(s.payloadLength, 1000);
  t.is(s.payload.length, 100);
  // Cut inside the TCP header: no segment can be formed, and that is counted.
  const d = decodePcap(writePcap(113, [{ tsUs: 0, data: frame.subarray(0, headerLen - 25), origLen: frame.length }]));
  t.is(d.segments.length, 0);
  t.is(d.skipped.headerTruncated, 1);
});

test('a file truncated mid-record names the record offset; allowTruncatedTail tolerates it', (t) => {
  const frames = [0, 1, 2].map((i) => buildTcpPacket({ src: '127.0.0.1', dst: '127.0.0.1', srcPort: 1, dstPort: 2, seq: i, payload: Buffer.alloc(10, i) }));
  const file = writePcap(1, frames.map((data, i) => ({ tsUs: i, data })));
  const rec1 = 24 + 16 + frames[0]!.length;
  for (const cutAt of [rec1 + 5, rec1 + 16, rec1 + 16 + frames[1]!.length - 1]) {
    const e = errorOf(() => decodePcap(file.subarray(0, cutAt)));
    t.is(e.offset, rec1, `cut at ${cutAt}`);
    t.regex(e.message, /truncated/);
    const tolerant = decodePcap(file.subarray(0, cutAt), { allowTruncatedTail: true });
    t.true(tolerant.truncatedTail);
    t.is(tolerant.packetCount, 1);
    t.is(tolerant.segments.length, 1);
  }
  // A cut exactly on a record boundary is a complete (shorter) file.
  t.is(decodePcap(file.subarray(0, rec1)).packetCount, 1);
  t.is(decodePcap(file.subarray(0, 24)).packetCount, 0);
});

test('bad global headers report their offsets', (t) => {
  const good = Buffer.concat([LO_GLOBAL, LO_V4_RECORD]);
  t.is(errorOf(() => decodePcap(Buffer.alloc(0))).offset, 0);
  t.is(errorOf(() => decodePcap(hex('deadbeef'.repeat(10)))).offset, 0);
  t.regex(errorOf(() => decodePcap(hex('0a0d0d0a 00000000'))).reason, /pcapng/);
  t.is(errorOf(() => decodePcap(good.subarray(0, 20))).offset, 0);
  const version = Buffer.from(good);
  version.writeUInt16LE(7, 4);
  t.is(errorOf(() => decodePcap(version)).offset, 4);
  const link = Buffer.from(good);
  link.writeUInt32LE(147, 20);
  t.is(errorOf(() => decodePcap(link)).offset, 20);
  const caplen = Buffer.from(good);
  caplen.writeUInt32LE(0x7fffffff, 24 + 8);
  t.is(errorOf(() => decodePcap(caplen)).offset, 32);
  const usec = Buffer.from(good);
  usec.writeUInt32LE(1_000_000, 24 + 4);
  t.is(errorOf(() => decodePcap(usec)).offset, 28);
});

test('malformed IP/TCP headers in complete records are errors at the field offset', (t) => {
  const base = Buffer.concat([LO_GLOBAL, LO_V4_RECORD]);
  const ipAt = 24 + 16 + 14;
  const ihl = Buffer.from(base);
  ihl[ipAt] = 0x43;
  t.is(errorOf(() => decodePcap(ihl)).offset, ipAt);
  const total = Buffer.from(base);
  total.writeUInt16BE(0x0100, ipAt + 2);
  t.is(errorOf(() => decodePcap(total)).offset, ipAt + 2);
  const dataOff = Buffer.from(base);
  dataOff[ipAt + 20 + 12] = 0xf0; // 60-byte TCP header in a 43-byte segment
  t.is(errorOf(() => decodePcap(dataOff)).offset, ipAt + 20 + 12);
});

test('slicePcap keeps one connection byte for byte', (t) => {
  const mk = (srcPort: number, seq: number) =>
    buildTcpPacket({ src: '127.0.0.1', dst: '127.0.0.1', srcPort, dstPort: 9000, seq, payload: Buffer.from([seq]) });
  const frames = [mk(1111, 1), mk(2222, 2), mk(1111, 3), mk(2222, 4)];
  const file = writePcap(1, frames.map((data, i) => ({ tsUs: i, data })), 4096, { bigEndian: true });
  const sliced = slicePcap(file, (s) => s.srcPort === 2222);
  t.deepEqual(sliced.subarray(0, 24), file.subarray(0, 24));
  const d = decodePcap(sliced);
  t.deepEqual(d.segments.map((s) => s.seq), [2, 4]);
  const rec = 16 + frames[0]!.length;
  t.deepEqual(sliced.subarray(24), Buffer.concat([file.subarray(24 + rec, 24 + 2 * rec), file.subarray(24 + 3 * rec)]));
});

test('IPv6 text forms round-trip (RFC 5952)', (t) => {
  for (const a of ['::1', '::', 'fe80::1', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', '1::', '::ffff:127.0.0.1', 'ff02::1:ff00:1']) {
    t.is(formatIPv6(parseIp(a), 0), a);
  }
  t.is(formatIPv6(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001'), 0), '2001:db8::1');
});
