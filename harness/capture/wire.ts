// The wire stream of each case, from one tcpdump running for the whole session: after a case,
// flush (sentinel packet), read the records added since the last case, keep the case's
// connection (4-tuple), reassemble the sender→receiver direction. Drops reported by tcpdump
// since the previous case make the case inconclusive.
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { CaptureSession, type CaptureCounters } from './tcpdump.ts';
import { decodePcap, slicePcap, type TcpSegment } from './pcap.ts';
import { reassemble, type ReassembledStream } from './reassembly.ts';

export interface ConnectionTuple {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

export interface WireObservation {
  stream: ReassembledStream;
  /** a classic pcap with only this connection's packets (both directions) */
  pcap: Buffer;
  /** this connection's decoded TCP segments (both directions), in capture order (saves decoding
   * `pcap` again; absent: decode `pcap`) */
  segments?: TcpSegment[];
  packets: number;
  /** packets tcpdump reported dropped by the kernel while this case ran */
  droppedByKernel: number;
  iface: string;
  /** frames in this case's part of the capture that could not be decoded as whole TCP segments
   * (truncated headers, IP fragments): they may belong to the case's connection */
  undecodable: { headerTruncated: number; fragments: number };
  /** the connection finished on the wire (FIN, and everything ACKed) before it was collected;
   * absent when the capture does not check it */
  finished?: { ok: boolean; reason?: string };
}

export interface WireCaptureOptions {
  iface: string;
  netns?: string;
  /** the receiver's port: the capture filter's TCP port */
  receiverPort: number;
  file: string;
  /** where flush() sends its sentinel datagram (an address reached through `iface`) */
  sentinelHost: string;
  /** tcpdump -s (see CaptureOptions.snaplen); default 0 */
  snaplen?: number;
  /** sends the sentinel when this process's namespace cannot reach `sentinelHost` */
  sendSentinel?: (token: Buffer, host: string, port: number) => void;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export class WireCapture {
  private readOffset = GLOBAL_HEADER;
  private header: Buffer | null = null;
  private little = true;
  private dropped = 0;

  private constructor(
    private readonly session: CaptureSession,
    private readonly opts: WireCaptureOptions,
  ) {}

  static async start(opts: WireCaptureOptions): Promise<WireCapture> {
    // A sentinel port per session; nobody listens on it, the datagram only has to be captured.
    const sentinelPort = 20000 + (process.pid % 20000);
    const session = await CaptureSession.start({
      iface: opts.iface,
      netns: opts.netns,
      file: opts.file,
      filter: `(tcp port ${opts.receiverPort}) or (udp and dst port ${sentinelPort})`,
      snaplen: opts.snaplen,
      sentinel: { host: opts.sentinelHost, port: sentinelPort, send: opts.sendSentinel },
    });
    return new WireCapture(session, opts);
  }

  get file(): string {
    return this.opts.file;
  }

  /** Everything the capture saw of `conn` since the previous call. */
  async collect(conn: ConnectionTuple): Promise<WireObservation> {
    await this.session.flush();
    const counters = await this.session.stats();
    const droppedByKernel = counters.droppedByKernel - this.dropped;
    this.dropped = counters.droppedByKernel;
    const chunk = this.readNewRecords();
    const matches = (s: TcpSegment): boolean =>
      (s.src === conn.src && s.srcPort === conn.srcPort && s.dst === conn.dst && s.dstPort === conn.dstPort) ||
      (s.src === conn.dst && s.srcPort === conn.dstPort && s.dst === conn.src && s.dstPort === conn.srcPort);
    const decoded = decodePcap(chunk);
    const segments = decoded.segments.filter(matches);
    return {
      undecodable: { headerTruncated: decoded.skipped.headerTruncated, fragments: decoded.skipped.fragments },
      stream: reassemble(segments, conn),
      pcap: slicePcap(chunk, matches),
      segments,
      packets: segments.length,
      droppedByKernel,
      iface: this.opts.iface,
    };
  }

  /** The global header plus every complete record written since the last read. */
  private readNewRecords(): Buffer {
    const fd = openSync(this.opts.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (!this.header) {
        this.header = Buffer.alloc(GLOBAL_HEADER);
        if (readSync(fd, this.header, 0, GLOBAL_HEADER, 0) !== GLOBAL_HEADER) throw new Error(`${this.opts.file}: no pcap header yet`);
        this.little = this.header.readUInt32LE(0) === 0xa1b2c3d4 || this.header.readUInt32LE(0) === 0xa1b23c4d;
      }
      const body = Buffer.alloc(Math.max(0, size - this.readOffset));
      let got = 0;
      while (got < body.length) {
        const n = readSync(fd, body, got, body.length - got, this.readOffset + got);
        if (n === 0) break;
        got += n;
      }
      // Keep whole records only; a record tcpdump is still writing is read next time.
      let end = 0;
      while (end + RECORD_HEADER <= got) {
        const incl = this.little ? body.readUInt32LE(end + 8) : body.readUInt32BE(end + 8);
        if (end + RECORD_HEADER + incl > got) break;
        end += RECORD_HEADER + incl;
      }
      this.readOffset += end;
      return Buffer.concat([this.header, body.subarray(0, end)]);
    } finally {
      closeSync(fd);
    }
  }

  async stop(): Promise<CaptureCounters> {
    return this.session.stop();
  }
}
