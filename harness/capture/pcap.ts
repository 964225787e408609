// Classic pcap (as `tcpdump -w` writes it) → TCP segments. Records are framed here, not by pcap-parser (stream-only, no
// byte offsets, silently drops a truncated or corrupt tail): for evidence every inconsistency is a PcapDecodeError naming
// its byte offset in the file, and nothing is left out silently.

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

const SUPPORTED_LINKTYPES = new Set([LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2]);

/** libpcap's MAXIMUM_SNAPLEN; larger captured lengths are corruption, not data. */
const MAX_CAPLEN = 262144;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export class PcapDecodeError extends Error {
  readonly offset: number;
  readonly reason: string;
  constructor(offset: number, reason: string) {
    super(`pcap decode error at byte offset ${offset}: ${reason}`);
    this.name = 'PcapDecodeError';
    this.offset = offset;
    this.reason = reason;
  }
}

export interface TcpFlags { syn: boolean; ack: boolean; fin: boolean; rst: boolean; psh: boolean }

export interface TcpSegment {
  index: number; // 0-based packet (record) number in the file
  fileOffset: number; // byte offset of the record header in the file
  tsUs: number; // microseconds since the epoch
  src: string; dst: string; srcPort: number; dstPort: number;
  seq: number; ack: number;
  flags: TcpFlags;
  window: number;
  payload: Buffer; // captured payload bytes (a view into the input buffer)
  payloadLength: number; // true payload length, from the IP header
  payloadTruncated: boolean; // payload.length < payloadLength (snaplen cut it)
  ifIndex?: number; // LINUX_SLL2 only: which interface (`-i any` can see a packet twice)
  outgoing?: boolean; // LINUX_SLL/SLL2 only: packet type PACKET_OUTGOING
}

export interface DecodedPcap {
  linkType: number;
  snaplen: number;
  segments: TcpSegment[];
  // headerTruncated: snaplen cut the packet before the TCP header was complete.
  skipped: { nonTcp: number; fragments: number; headerTruncated: number };
  truncatedTail: boolean;
  packetCount: number; // complete records in the file
}

export interface DecodeOptions {
  /** Accept a partially written last record (a file tcpdump is still writing). */
  allowTruncatedTail?: boolean;
}

export interface GlobalHeader { le: boolean; nano: boolean; snaplen: number; linkType: number }

interface RawRecord {
  index: number; offset: number; end: number; tsUs: number; wireLen: number; data: Buffer;
  /** the record header's own timestamp fields (frac: µs, or ns when the file is nanosecond) */
  sec: number; frac: number; origLen: number;
}

/** One record as the file holds it, for writers that copy a capture into another format. */
export type PcapRecord = Pick<RawRecord, 'index' | 'sec' | 'frac' | 'origLen' | 'data'>;

function readGlobalHeader(buf: Buffer): GlobalHeader {
  if (buf.length < 4) throw new PcapDecodeError(0, `file too short for a magic number (${buf.length} bytes)`);
  const magic = buf.readUInt32BE(0);
  let le: boolean;
  let nano: boolean;
  switch (magic) {
    case 0xa1b2c3d4: le = false; nano = false; break;
    case 0xd4c3b2a1: le = true; nano = false; break;
    case 0xa1b23c4d: le = false; nano = true; break;
    case 0x4d3cb2a1: le = true; nano = true; break;
    case 0x0a0d0d0a: throw new PcapDecodeError(0, 'pcapng is not supported; capture with `tcpdump -w` or convert with `editcap -F pcap`');
    default: throw new PcapDecodeError(0, `bad magic number 0x${magic.toString(16).padStart(8, '0')}`);
  }
  if (buf.length < GLOBAL_HEADER_LEN) throw new PcapDecodeError(0, `global header truncated: ${buf.length} of ${GLOBAL_HEADER_LEN} bytes`);
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const major = u16(4);
  const minor = u16(6);
  if (major !== 2 || minor < 2 || minor > 4) throw new PcapDecodeError(4, `unsupported pcap version ${major}.${minor}`);
  // The upper bits of the link-type field carry FCS metadata; any FCS trailer is ignored anyway
  // because IP lengths bound the payload.
  const linkType = u32(20) & 0xffff;
  if (!SUPPORTED_LINKTYPES.has(linkType)) throw new PcapDecodeError(20, `unsupported link type ${linkType}`);
  return { le, nano, snaplen: u32(16), linkType };
}

/** Walk complete records; returns whether a partial trailing record was tolerated. */
function walkRecords(buf: Buffer, hdr: GlobalHeader, opts: DecodeOptions, visit: (r: RawRecord) => void): boolean {
  const u32 = (o: number) => (hdr.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const maxCaplen = Math.max(hdr.snaplen, MAX_CAPLEN);
  const fracLimit = hdr.nano ? 1e9 : 1e6;
  let offset = GLOBAL_HEADER_LEN;
  for (let index = 0; offset < buf.length; index++) {
    const remaining = buf.length - offset;
    if (remaining < RECORD_HEADER_LEN) {
      if (opts.allowTruncatedTail) return true;
      throw new PcapDecodeError(offset, `record ${index} header truncated: ${remaining} of ${RECORD_HEADER_LEN} bytes present`);
    }
    const sec = u32(offset);
    const frac = u32(offset + 4);
    const capLen = u32(offset + 8);
    const origLen = u32(offset + 12);
    if (frac >= fracLimit) throw new PcapDecodeError(offset + 4, `record ${index} timestamp fraction ${frac} out of range`);
    if (capLen > maxCaplen) throw new PcapDecodeError(offset + 8, `record ${index} captured length ${capLen} exceeds limit ${maxCaplen}`);
    if (remaining - RECORD_HEADER_LEN < capLen) {
      if (opts.allowTruncatedTail) return true;
      throw new PcapDecodeError(offset, `record ${index} data truncated: captured length ${capLen} but only ${remaining - RECORD_HEADER_LEN} bytes remain`);
    }
    const dataStart = offset + RECORD_HEADER_LEN;
    const end = dataStart + capLen;
    const tsUs = sec * 1e6 + (hdr.nano ? Math.floor(frac / 1000) : frac);
    // A writer that records origLen < capLen is wrong, but the captured bytes are what they are.
    visit({ index, offset, end, tsUs, wireLen: Math.max(origLen, capLen), data: buf.subarray(dataStart, end), sec, frac, origLen });
    offset = end;
  }
  return false;
}

/** Thrown inside frame decoding when snaplen cut a header short; never escapes this module. */
class HeaderCut extends Error {}

type FrameResult = TcpSegment | 'nonTcp' | 'fragment' | 'headerTruncated';

/** One frame being decoded, and the two ways a layer finds it wanting. */
interface Frame {
  d: Buffer;
  /** bytes on the wire (the captured d may be shorter: snaplen) */
  wireLen: number;
  /** throws HeaderCut when snaplen cut d[pos, pos + n), else a PcapDecodeError if it is missing */
  need: (pos: number, n: number, what: string) => void;
  fail: (pos: number, reason: string) => never;
}

function frameOf(r: RawRecord): Frame {
  const d = r.data;
  const base = r.offset + RECORD_HEADER_LEN; // file offset of d[0], for error messages
  // A position the headers' lengths point to may lie past what was captured: the error then names the
  // end of the captured frame, where the evidence stops, never an offset outside the file.
  const fail = (pos: number, reason: string): never => {
    const past = pos > d.length ? ` (frame offset ${pos}, past the ${d.length} captured bytes)` : '';
    throw new PcapDecodeError(base + Math.min(pos, d.length), `packet ${r.index}: ${reason}${past}`);
  };
  // Bytes missing from the capture are snaplen truncation only if the wire length says so.
  const need = (pos: number, n: number, what: string): void => {
    if (pos + n <= d.length) return;
    if (d.length < r.wireLen) throw new HeaderCut();
    fail(pos, `${what} needs ${n} bytes at frame offset ${pos} but the frame has ${d.length}`);
  };
  return { d, wireLen: r.wireLen, need, fail };
}

/** What the link header says: where the network header starts and its EtherType (raw IP: from the version). */
interface LinkLayer {
  pos: number;
  etherType: number;
  ifIndex?: number;
  outgoing?: boolean;
}

/** Where the TCP segment lies in the IP packet; ipEnd is where the IP packet ends on the wire. */
interface IpLayer {
  src: string;
  dst: string;
  tcpPos: number;
  ipEnd: number;
}

function decodeFrame(linkType: number, r: RawRecord): FrameResult {
  const f = frameOf(r);
  try {
    const link = linkLayer(linkType, f);
    const ip = link.etherType === 0x0800 ? ipv4Layer(f, link.pos) : link.etherType === 0x86dd ? ipv6Layer(f, link.pos) : 'nonTcp';
    if (typeof ip === 'string') return ip;
    return tcpLayer(f, r, link, ip);
  } catch (e) {
    if (e instanceof HeaderCut) return 'headerTruncated';
    throw e;
  }
}

function linkLayer(linkType: number, { d, need }: Frame): LinkLayer {
  if (linkType === LINKTYPE_ETHERNET) {
    need(0, 14, 'Ethernet header');
    let etherType = d.readUInt16BE(12);
    let pos = 14;
    // 802.1Q / 802.1ad tags: each is 4 bytes; the loop consumes bytes so it terminates.
    while (etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100) {
      need(pos, 4, 'VLAN tag');
      etherType = d.readUInt16BE(pos + 2);
      pos += 4;
    }
    return { pos, etherType };
  }
  if (linkType === LINKTYPE_LINUX_SLL) {
    need(0, 16, 'LINUX_SLL header');
    return { pos: 16, etherType: d.readUInt16BE(14), outgoing: d.readUInt16BE(0) === 4 };
  }
  if (linkType === LINKTYPE_LINUX_SLL2) {
    need(0, 20, 'LINUX_SLL2 header');
    return { pos: 20, etherType: d.readUInt16BE(0), ifIndex: d.readUInt32BE(4), outgoing: d[10] === 4 };
  }
  need(0, 1, 'raw IP header');
  const v = d[0]! >> 4;
  return { pos: 0, etherType: v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0 };
}

function ipv4Layer({ d, wireLen, need, fail }: Frame, pos: number): IpLayer | 'fragment' | 'nonTcp' {
  const wireAvail = wireLen - pos;
  need(pos, 20, 'IPv4 header');
  const version = d[pos]! >> 4;
  const ihl = (d[pos]! & 0x0f) * 4;
  if (version !== 4) fail(pos, `IPv4 header has version ${version}`);
  if (ihl < 20) fail(pos, `IPv4 header length ${ihl} < 20`);
  let totalLen = d.readUInt16BE(pos + 2);
  // 0 means "larger than 64 KiB" for BIG TCP super-packets; then the frame length is authoritative.
  if (totalLen === 0 && wireAvail > 0xffff) totalLen = wireAvail;
  if (totalLen < ihl) fail(pos + 2, `IPv4 total length ${totalLen} < header length ${ihl}`);
  if (totalLen > wireAvail) fail(pos + 2, `IPv4 total length ${totalLen} exceeds the ${wireAvail} bytes on the wire`);
  const frag = d.readUInt16BE(pos + 6);
  // Any fragment (more-fragments set or nonzero offset) cannot be a whole TCP segment.
  if ((frag & 0x3fff) !== 0) return 'fragment';
  if (d[pos + 9] !== 6) return 'nonTcp';
  const src = formatIPv4(d, pos + 12);
  const dst = formatIPv4(d, pos + 16);
  need(pos, ihl, 'IPv4 options');
  return { src, dst, tcpPos: pos + ihl, ipEnd: pos + totalLen };
}

function ipv6Layer({ d, wireLen, need, fail }: Frame, pos: number): IpLayer | 'fragment' | 'nonTcp' {
  const wireAvail = wireLen - pos;
  need(pos, 40, 'IPv6 header');
  const version = d[pos]! >> 4;
  if (version !== 6) fail(pos, `IPv6 header has version ${version}`);
  let payloadLen = d.readUInt16BE(pos + 4);
  if (payloadLen === 0 && wireAvail - 40 > 0xffff) payloadLen = wireAvail - 40; // jumbogram / BIG TCP
  if (payloadLen > wireAvail - 40) {
    fail(pos + 4, `IPv6 payload length ${payloadLen} exceeds the ${wireAvail - 40} bytes on the wire`);
  }
  const src = formatIPv6(d, pos + 8);
  const dst = formatIPv6(d, pos + 24);
  const ipEnd = pos + 40 + payloadLen;
  let next = d[pos + 6]!;
  let p = pos + 40;
  // Extension headers; each iteration advances p by at least 8 bytes, bounded by ipEnd.
  for (;;) {
    if (next === 6) break;
    if (next === 44) return 'fragment';
    if (next !== 0 && next !== 43 && next !== 60 && next !== 51) return 'nonTcp';
    need(p, 2, 'IPv6 extension header');
    const len = next === 51 ? (d[p + 1]! + 2) * 4 : (d[p + 1]! + 1) * 8;
    if (p + len > ipEnd) fail(p, `IPv6 extension header (${next}) of ${len} bytes overruns the payload`);
    next = d[p]!;
    p += len;
  }
  return { src, dst, tcpPos: p, ipEnd };
}

function tcpLayer({ d, need, fail }: Frame, r: RawRecord, link: LinkLayer, { src, dst, tcpPos, ipEnd }: IpLayer): TcpSegment {
  const segLen = ipEnd - tcpPos;
  if (segLen < 20) fail(tcpPos, `TCP segment of ${segLen} bytes is shorter than a TCP header`);
  need(tcpPos, 20, 'TCP header');
  const dataOff = (d[tcpPos + 12]! >> 4) * 4;
  if (dataOff < 20 || dataOff > segLen) fail(tcpPos + 12, `TCP data offset ${dataOff} invalid for a ${segLen}-byte segment`);
  const flagBits = d[tcpPos + 13]!;
  const payloadLength = segLen - dataOff;
  // If snaplen cut into the options/payload we still know the segment; only its bytes are partial.
  const payloadStart = tcpPos + dataOff;
  const captured = Math.max(0, Math.min(payloadLength, d.length - payloadStart));
  const seg: TcpSegment = {
    index: r.index, fileOffset: r.offset, tsUs: r.tsUs,
    src, dst, srcPort: d.readUInt16BE(tcpPos), dstPort: d.readUInt16BE(tcpPos + 2),
    seq: d.readUInt32BE(tcpPos + 4), ack: d.readUInt32BE(tcpPos + 8),
    flags: {
      fin: (flagBits & 1) !== 0, syn: (flagBits & 2) !== 0, rst: (flagBits & 4) !== 0,
      psh: (flagBits & 8) !== 0, ack: (flagBits & 16) !== 0,
    },
    window: d.readUInt16BE(tcpPos + 14),
    payload: d.subarray(payloadStart, payloadStart + captured),
    payloadLength,
    payloadTruncated: captured < payloadLength,
  };
  if (link.ifIndex !== undefined) seg.ifIndex = link.ifIndex;
  if (link.outgoing !== undefined) seg.outgoing = link.outgoing;
  return seg;
}

export function decodePcap(buf: Buffer, opts: DecodeOptions = {}): DecodedPcap {
  const hdr = readGlobalHeader(buf);
  const out: DecodedPcap = {
    linkType: hdr.linkType, snaplen: hdr.snaplen, segments: [],
    skipped: { nonTcp: 0, fragments: 0, headerTruncated: 0 }, truncatedTail: false, packetCount: 0,
  };
  out.truncatedTail = walkRecords(buf, hdr, opts, (r) => {
    out.packetCount++;
    const res = decodeFrame(hdr.linkType, r);
    if (res === 'nonTcp') out.skipped.nonTcp++;
    else if (res === 'fragment') out.skipped.fragments++;
    else if (res === 'headerTruncated') out.skipped.headerTruncated++;
    else out.segments.push(res);
  });
  return out;
}

/**
 * A new pcap holding only the records whose TCP segment satisfies `keep`. The global header
 * and the kept records are copied byte for byte, so the slice is evidence of the same capture.
 */
export function slicePcap(buf: Buffer, keep: (seg: TcpSegment) => boolean, opts: DecodeOptions = {}): Buffer {
  const hdr = readGlobalHeader(buf);
  const parts: Buffer[] = [buf.subarray(0, GLOBAL_HEADER_LEN)];
  walkRecords(buf, hdr, opts, (r) => {
    const res = decodeFrame(hdr.linkType, r);
    if (typeof res !== 'string' && keep(res)) parts.push(buf.subarray(r.offset, r.end));
  });
  return Buffer.concat(parts);
}

/** The global header and every record, unchanged (no frame decoding). */
export function readPcapRecords(buf: Buffer, opts: DecodeOptions = {}): { header: GlobalHeader; records: PcapRecord[] } {
  const header = readGlobalHeader(buf);
  const records: PcapRecord[] = [];
  walkRecords(buf, header, opts, ({ index, sec, frac, origLen, data }) => records.push({ index, sec, frac, origLen, data }));
  return { header, records };
}

function formatIPv4(d: Buffer, p: number): string {
  return `${d[p]}.${d[p + 1]}.${d[p + 2]}.${d[p + 3]}`;
}

/** RFC 5952 text form (what Node's `net` reports too, including ::ffff:a.b.c.d for mapped IPv4). */
export function formatIPv6(d: Buffer, p: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(d.readUInt16BE(p + 2 * i));
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${formatIPv4(d, p + 12)}`;
  // Longest run of two or more zero groups (first one on a tie) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}
