// Classic pcap → pcapng with comments, so Wireshark shows our findings on the frames; packets and timestamps are copied unchanged.
// Format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html (little-endian here).
import { readPcapRecords } from '../capture/pcap.ts';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;

export interface PcapngOptions {
  /** section-header comments (one option each): what the file is evidence of */
  sectionComments?: string[];
  /** shb_os, e.g. the kernel release */
  os?: string;
  /** shb_userappl, e.g. "zcprobe 0.1.0" */
  application?: string;
  /** if_name of the one interface, e.g. "lo" */
  interfaceName?: string;
  /** comments per record index (0-based, the classic file's order) */
  frameComments?: ReadonlyMap<number, readonly string[]>;
}

const pad4 = (n: number) => (n + 3) & ~3;

/** One option: code, length, value padded to 4 bytes. */
function option(code: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new RangeError(`pcapng option ${code} is ${value.length} bytes (max 65535)`);
  const out = Buffer.alloc(4 + pad4(value.length));
  out.writeUInt16LE(code, 0);
  out.writeUInt16LE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** Options list ending with opt_endofopt, or nothing when there are none. */
function options(list: Buffer[]): Buffer {
  return list.length ? Buffer.concat([...list, option(OPT_END, Buffer.alloc(0))]) : Buffer.alloc(0);
}

const text = (s: string) => Buffer.from(s, 'utf8');

/** type, total length, body, total length again. */
function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(total, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(total, 0);
  return Buffer.concat([head, body, tail]);
}

function sectionHeader(o: PcapngOptions): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4); // major
  fixed.writeUInt16LE(0, 6); // minor
  fixed.writeBigInt64LE(-1n, 8); // section length not given
  const opts = (o.sectionComments ?? []).map((c) => option(OPT_COMMENT, text(c)));
  if (o.os) opts.push(option(SHB_OS, text(o.os)));
  if (o.application) opts.push(option(SHB_USERAPPL, text(o.application)));
  return block(SHB, Buffer.concat([fixed, options(opts)]));
}

function interfaceDescription(linkType: number, snaplen: number, nano: boolean, name?: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(linkType, 0);
  fixed.writeUInt32LE(snaplen, 4);
  const opts = [option(IF_TSRESOL, Buffer.from([nano ? 9 : 6]))];
  if (name) opts.push(option(IF_NAME, text(name)));
  return block(IDB, Buffer.concat([fixed, options(opts)]));
}

function enhancedPacket(ts: bigint, data: Buffer, origLen: number, comments: readonly string[]): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(0, 0); // interface 0
  fixed.writeUInt32LE(Number(ts >> 32n), 4);
  fixed.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  fixed.writeUInt32LE(data.length, 12);
  fixed.writeUInt32LE(origLen, 16);
  const padded = Buffer.alloc(pad4(data.length));
  data.copy(padded);
  return block(EPB, Buffer.concat([fixed, padded, options(comments.map((c) => option(OPT_COMMENT, text(c))))]));
}

/** The classic pcap `pcap` as one pcapng section with one interface, plus the comments. */
export function pcapToPcapng(pcap: Buffer, o: PcapngOptions = {}): Buffer {
  const { header, records } = readPcapRecords(pcap);
  const perSec = header.nano ? 1_000_000_000n : 1_000_000n;
  const known = new Set(records.map((r) => r.index));
  for (const i of o.frameComments?.keys() ?? []) {
    if (!known.has(i)) throw new RangeError(`comment for record ${i}, but the capture has ${records.length} records`);
  }
  const parts = [sectionHeader(o), interfaceDescription(header.linkType, header.snaplen, header.nano, o.interfaceName)];
  for (const r of records) {
    const ts = BigInt(r.sec) * perSec + BigInt(r.frac);
    parts.push(enhancedPacket(ts, r.data, Math.max(r.origLen, r.data.length), o.frameComments?.get(r.index) ?? []));
  }
  return Buffer.concat(parts);
}
