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

/** The records of a pcapng that pcapToPcapng wrote (one little-endian section, one interface) as a classic pcap again, so the
 * decoder (classic pcap only) can read a bundle's case.pcapng; comments are dropped. Other pcapng files: an error. */
export function pcapngToPcap(pcapng: Buffer): Buffer {
  const fail = (why: string): never => {
    throw new RangeError(`not a pcapng zcprobe wrote: ${why}`);
  };
  if (pcapng.length < 12 || pcapng.readUInt32LE(0) !== SHB || pcapng.readUInt32LE(8) !== BYTE_ORDER_MAGIC)
    fail('no little-endian section header');
  let linkType = -1;
  let snaplen = 0;
  let nano = false;
  const parts: Buffer[] = [];
  for (let off = 0; off + 12 <= pcapng.length; ) {
    const type = pcapng.readUInt32LE(off);
    const total = pcapng.readUInt32LE(off + 4);
    if (total < 12 || off + total > pcapng.length) fail(`block at ${off} runs past the end`);
    const body = pcapng.subarray(off + 8, off + total - 4);
    if (type === IDB) {
      if (linkType >= 0) fail('more than one interface');
      linkType = body.readUInt16LE(0);
      snaplen = body.readUInt32LE(4);
      // if_tsresol: the only option that matters for timestamps (we write 6 or 9)
      for (let o = 8; o + 4 <= body.length; ) {
        const code = body.readUInt16LE(o);
        const len = body.readUInt16LE(o + 2);
        if (code === OPT_END) break;
        if (code === IF_TSRESOL) nano = body[o + 4] === 9;
        o += 4 + pad4(len);
      }
    } else if (type === EPB) {
      if (linkType < 0) fail('a packet before its interface');
      const ts = (BigInt(body.readUInt32LE(4)) << 32n) | BigInt(body.readUInt32LE(8));
      const caplen = body.readUInt32LE(12);
      const perSec = nano ? 1_000_000_000n : 1_000_000n;
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(Number(ts / perSec), 0);
      rec.writeUInt32LE(Number(ts % perSec), 4);
      rec.writeUInt32LE(caplen, 8);
      rec.writeUInt32LE(body.readUInt32LE(16), 12);
      parts.push(rec, body.subarray(20, 20 + caplen));
    }
    off += total;
  }
  if (linkType < 0) fail('no interface description');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snaplen, 16);
  header.writeUInt32LE(linkType, 20);
  return Buffer.concat([header, ...parts]);
}
