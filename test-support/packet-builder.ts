// Builders for link-layer + IP + TCP frames and classic pcap files. Used by tests (and by
// anything that needs to synthesise evidence-shaped captures); the decoder never uses them.
// Checksums are computed so the frames also look right in Wireshark/tcpdump.

import { isIPv4, isIPv6 } from 'node:net';

export interface BuildFlags { syn?: boolean; ack?: boolean; fin?: boolean; rst?: boolean; psh?: boolean }

export interface IPv6ExtHeader {
  /** 0 hop-by-hop, 43 routing, 60 destination options, 44 fragment. */
  type: number;
  /** Bytes after the next-header/length pair; its length must be 6 + 8n. */
  body: Buffer;
}

export interface IpOptions {
  src: string;
  dst: string;
  protocol: number;
  body: Buffer;
  ttl?: number;
  /** IPv4 only. */
  ipId?: number;
  ipv4Options?: Buffer; // padded with zeros (EOL) to a multiple of 4
  moreFragments?: boolean;
  fragmentOffset?: number; // in 8-byte units
  /** IPv6 only: extension headers between the fixed header and `protocol`. */
  ipv6ExtHeaders?: IPv6ExtHeader[];
}

export interface LinkOptions {
  linkType?: number; // 1 (default), 101, 113, 276
  vlan?: number[]; // 802.1Q VLAN ids, outermost first (Ethernet only)
  padding?: number; // trailing bytes after the IP packet, like Ethernet minimum-frame padding
  outgoing?: boolean; // SLL/SLL2 packet type 4 instead of 0
  ifIndex?: number; // SLL2 interface index (default 1, lo)
}

export interface TcpPacketOptions extends LinkOptions {
  src: string; // IPv4 or IPv6 text; the IP version follows from it
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags?: BuildFlags;
  window?: number;
  tcpOptions?: Buffer; // padded with zeros (EOL) to a multiple of 4
  payload?: Buffer;
  ttl?: number;
  ipId?: number;
  ipv4Options?: Buffer;
  moreFragments?: boolean;
  fragmentOffset?: number;
  ipv6ExtHeaders?: IPv6ExtHeader[];
}

/** IPv4/IPv6 text → bytes. */
export function parseIp(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw new Error(`not an IP address: ${text}`);
  // Rewrite a trailing dotted quad (::ffff:1.2.3.4) as two hex groups, then expand "::".
  const t = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)));
  const [head, rest] = t.split('::') as [string, string | undefined];
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const zeros = rest === undefined ? 0 : 8 - h.length - r.length;
  const all = [...h, ...new Array<number>(zeros).fill(0), ...r];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}

function pad4(b: Buffer | undefined): Buffer {
  if (!b || b.length === 0) return Buffer.alloc(0);
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

/** One's-complement sum over buffers (as if concatenated), for IP and TCP checksums. */
function checksum(...parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i + 1 < all.length; i += 2) sum += all.readUInt16BE(i);
  if (all.length % 2) sum += all[all.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A TCP header + payload with the checksum filled in for the given addresses. */
export function buildTcpSegment(o: TcpPacketOptions): Buffer {
  const opts = pad4(o.tcpOptions);
  const payload = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (h.length / 4) << 4;
  const f = o.flags ?? { ack: true };
  h[13] = (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.psh ? 8 : 0) | (f.ack ? 16 : 0);
  h.writeUInt16BE(o.window ?? 512, 14);
  opts.copy(h, 20);
  const seg = Buffer.concat([h, payload]);
  const src = parseIp(o.src);
  const dst = parseIp(o.dst);
  const pseudo = Buffer.alloc(src.length === 4 ? 12 : 40);
  if (src.length === 4) {
    src.copy(pseudo, 0); dst.copy(pseudo, 4); pseudo[9] = 6; pseudo.writeUInt16BE(seg.length, 10);
  } else {
    src.copy(pseudo, 0); dst.copy(pseudo, 16); pseudo.writeUInt32BE(seg.length, 32); pseudo[39] = 6;
  }
  seg.writeUInt16BE(checksum(pseudo, seg), 16);
  return seg;
}

/** IPv4 or IPv6 packet (version chosen by the address form) around `body`. */
export function buildIpPacket(o: IpOptions): Buffer {
  const src = parseIp(o.src);
  const dst = parseIp(o.dst);
  if (src.length !== dst.length) throw new Error('src and dst must be the same IP version');
  if (src.length === 4) {
    const opts = pad4(o.ipv4Options);
    const h = Buffer.alloc(20 + opts.length);
    h[0] = 0x40 | (h.length / 4);
    h.writeUInt16BE(h.length + o.body.length, 2);
    h.writeUInt16BE(o.ipId ?? 0, 4);
    const frag = (o.moreFragments ? 0x2000 : 0) | (o.fragmentOffset ?? 0);
    h.writeUInt16BE(frag === 0 ? 0x4000 : frag, 6); // DF unless fragmenting, like Linux TCP
    h[8] = o.ttl ?? 64;
    h[9] = o.protocol;
    src.copy(h, 12);
    dst.copy(h, 16);
    opts.copy(h, 20);
    h.writeUInt16BE(checksum(h), 10);
    return Buffer.concat([h, o.body]);
  }
  const exts = o.ipv6ExtHeaders ?? [];
  const extBytes = exts.map((e, i) => {
    if ((e.body.length + 2) % 8 !== 0) throw new Error('IPv6 extension header body must be 6 + 8n bytes');
    const next = i + 1 < exts.length ? exts[i + 1]!.type : o.protocol;
    return Buffer.concat([Buffer.from([next, e.type === 44 ? 0 : (e.body.length + 2) / 8 - 1]), e.body]);
  });
  const payload = Buffer.concat([...extBytes, o.body]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = exts.length ? exts[0]!.type : o.protocol;
  h[7] = o.ttl ?? 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** Wrap an IP packet in the given link layer (loopback-style zero MAC addresses). */
export function wrapLinkLayer(ip: Buffer, o: LinkOptions = {}): Buffer {
  const linkType = o.linkType ?? 1;
  const etherType = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  const padding = Buffer.alloc(o.padding ?? 0);
  let hdr: Buffer;
  if (linkType === 1) {
    const tags = o.vlan ?? [];
    hdr = Buffer.alloc(14 + 4 * tags.length);
    tags.forEach((id, i) => {
      hdr.writeUInt16BE(0x8100, 12 + 4 * i);
      hdr.writeUInt16BE(id & 0x0fff, 14 + 4 * i);
    });
    hdr.writeUInt16BE(etherType, hdr.length - 2);
  } else if (linkType === 113) {
    hdr = Buffer.alloc(16);
    hdr.writeUInt16BE(o.outgoing ? 4 : 0, 0);
    hdr.writeUInt16BE(772, 2); // ARPHRD_LOOPBACK
    hdr.writeUInt16BE(6, 4);
    hdr.writeUInt16BE(etherType, 14);
  } else if (linkType === 276) {
    hdr = Buffer.alloc(20);
    hdr.writeUInt16BE(etherType, 0);
    hdr.writeUInt32BE(o.ifIndex ?? 1, 4);
    hdr.writeUInt16BE(772, 8);
    hdr[10] = o.outgoing ? 4 : 0;
    hdr[11] = 6;
  } else if (linkType === 101) {
    hdr = Buffer.alloc(0);
  } else {
    throw new Error(`unsupported link type ${linkType}`);
  }
  return Buffer.concat([hdr, ip, padding]);
}

/** A complete frame: link layer + IPv4/IPv6 + TCP. */
export function buildTcpPacket(o: TcpPacketOptions): Buffer {
  const ip = buildIpPacket({ ...o, protocol: 6, body: buildTcpSegment(o) });
  return wrapLinkLayer(ip, o);
}

/** Classic microsecond pcap writer (little-endian, like tcpdump on x86, unless bigEndian). */
export function writePcap(
  linkType: number,
  packets: { tsUs: number; data: Buffer; origLen?: number }[],
  snaplen = 262144,
  opts: { bigEndian?: boolean } = {},
): Buffer {
  const le = !opts.bigEndian;
  const out = Buffer.alloc(24 + packets.reduce((n, p) => n + 16 + p.data.length, 0));
  const w16 = (v: number, o: number) => (le ? out.writeUInt16LE(v, o) : out.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (le ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  w32(0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(snaplen, 16);
  w32(linkType, 20);
  let o = 24;
  for (const p of packets) {
    if (!Number.isSafeInteger(p.tsUs) || p.tsUs < 0) throw new RangeError(`bad timestamp ${p.tsUs}`);
    const sec = Math.floor(p.tsUs / 1e6);
    w32(sec, o);
    w32(p.tsUs - sec * 1e6, o + 4);
    w32(p.data.length, o + 8);
    w32(p.origLen ?? p.data.length, o + 12);
    p.data.copy(out, o + 16);
    o += 16 + p.data.length;
  }
  return out;
}
