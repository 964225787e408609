// The wire stream of each case from one session-long tcpdump: flush, read until the case's connection is finished on the wire
// (bounded), keep its 4-tuple and reassemble sender→receiver; drops since the last case make it inconclusive.
// The part of the session file already read is punched out, so storage stays bounded (docs/operating.md).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FILE, native } from '../native.ts';
import { decodePcap, slicePcap, type TcpSegment } from './pcap.ts';
import { reassemble, type ReassembledStream } from './reassembly.ts';
import { CaptureSession, type CaptureCounters } from './tcpdump.ts';

export interface ConnectionTuple {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

/** Whether the connection ended on the wire before the case was collected. */
export interface ConnectionFinish {
  /** true: sender FIN + receiver ACK of every byte and the FIN were captured, or an RST was */
  ok: boolean;
  /** 'fin-acked' or 'rst' when ok; otherwise what was missing when the wait ran out */
  reason: string;
  /** how long collect() waited for it, ms */
  waitedMs: number;
}

export interface WireObservation {
  stream: ReassembledStream;
  /** a classic pcap with only this connection's packets (both directions); packet i of
   * `stream` (retransmission firstPacket/againPacket) is record i of this file (frame i + 1) */
  pcap: Buffer;
  /** this connection's decoded TCP segments (both directions), in capture order (saves decoding
   * `pcap` again; absent: decode `pcap`) */
  segments?: TcpSegment[];
  packets: number;
  /** packets tcpdump reported dropped by the kernel while this case ran */
  droppedByKernel: number;
  /** records of the case's window the decoder could not attribute to any connection */
  undecoded: { fragments: number; headerTruncated: number };
  finished: ConnectionFinish;
  iface: string;
}

export interface WireCaptureOptions {
  iface: string;
  netns?: string;
  /** the receiver's port: the capture filter's TCP port */
  receiverPort: number;
  file: string;
  /** where flush() sends its sentinel datagram (an address reached through `iface`) */
  sentinelHost: string;
  /** keep every byte of the session file (no punching of the consumed part) */
  keepFile?: boolean;
  /** tcpdump -s (see CaptureOptions.snaplen); default 0 */
  snaplen?: number;
  /** sends the sentinel when this process's namespace cannot reach `sentinelHost` */
  sendSentinel?: (token: Buffer, host: string, port: number) => void;
}

export interface CollectOptions {
  /** bound on the wait for the connection to finish on the wire, ms */
  finishTimeoutMs?: number;
  /** pause between re-flushes while it has not, ms */
  pollMs?: number;
}

/** What WireCapture needs from a capture: a file tcpdump appends to, flushable on demand. */
export interface CaptureSource {
  readonly file: string;
  /** the capturing process, when there is one */
  readonly pid?: number;
  flush(): Promise<void>;
  stats(): Promise<CaptureCounters>;
  stop(): Promise<CaptureCounters>;
}

/** Bytes of the session file: apparent size vs what it really holds (tmpfs pages). */
export interface CaptureStorage {
  fileBytes: number;
  residentBytes: number;
  /** the most it held: measured at each collect, before the case's part was freed */
  peakResidentBytes: number;
}

// RTO on lo/veth is ≥ 200 ms and doubles; a case whose last ACK has not come after 3 s is broken.
export const FINISH_TIMEOUT_MS = 3000;
const POLL_MS = 5;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const PUNCH_ALIGN = 1 << 16; // punch whole 64 KiB blocks: fewer calls, pages freed just the same

const serialLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;

/** Follows one connection's FIN / ACK / RST over successive chunks of segments. */
class FinishWatch {
  private finEnd: number | undefined; // sequence number just after the sender's FIN
  private isn: number | undefined;
  private acked: number | undefined; // highest ACK from the receiver
  private rst = false;
  private seen = 0;

  constructor(private readonly conn: ConnectionTuple) {}

  feed(segments: TcpSegment[]): void {
    const c = this.conn;
    for (const s of segments) {
      this.seen++;
      if (s.flags.rst) this.rst = true;
      if (s.src === c.src && s.srcPort === c.srcPort) {
        if (s.flags.syn) this.isn = s.seq;
        if (s.flags.fin) this.finEnd = (s.seq + s.payloadLength + 1) >>> 0;
      } else if (s.flags.ack && (this.acked === undefined || serialLt(this.acked, s.ack))) {
        this.acked = s.ack;
      }
    }
  }

  get done(): 'fin-acked' | 'rst' | null {
    if (this.rst) return 'rst';
    if (this.finEnd !== undefined && this.acked !== undefined && !serialLt(this.acked, this.finEnd)) return 'fin-acked';
    return null;
  }

  missing(): string {
    if (this.seen === 0) return 'no packet of the connection in the capture';
    if (this.finEnd === undefined) return 'no FIN from the sender in the capture';
    const rel = (seq: number) => (this.isn === undefined ? `seq ${seq}` : `offset ${((seq - this.isn - 1) | 0)}`);
    const acked = this.acked === undefined ? 'nothing' : `up to ${rel(this.acked)}`;
    return `the receiver ACKed ${acked}, not the sender's data + FIN (${rel(this.finEnd)})`;
  }
}

export class WireCapture {
  private readOffset = GLOBAL_HEADER;
  private punchedTo = 0;
  private peakResident = 0;
  /** why the consumed part cannot be freed on this filesystem (then the file grows), or null */
  private punchUnsupported: string | null = null;
  private header: Buffer | null = null;
  private little = true;
  private dropped = 0;

  /** Over any CaptureSource (tests feed synthetic captures through this). */
  constructor(
    private readonly source: CaptureSource,
    private readonly opts: Pick<WireCaptureOptions, 'iface' | 'keepFile'>,
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
    return this.source.file;
  }

  get pid(): number | undefined {
    return this.source.pid;
  }

  /**
   * Everything the capture saw of `conn` since the previous call, read once the connection is
   * finished on the wire (or `finishTimeoutMs` ran out: then `finished.ok` is false and says why).
   */
  async collect(conn: ConnectionTuple, opts: CollectOptions = {}): Promise<WireObservation> {
    const bound = opts.finishTimeoutMs ?? FINISH_TIMEOUT_MS;
    const started = performance.now();
    const matches = (s: TcpSegment): boolean =>
      (s.src === conn.src && s.srcPort === conn.srcPort && s.dst === conn.dst && s.dstPort === conn.dstPort) ||
      (s.src === conn.dst && s.srcPort === conn.dstPort && s.dst === conn.src && s.dstPort === conn.srcPort);
    const watch = new FinishWatch(conn);
    const parts: Buffer[] = [];
    const take = async (): Promise<void> => {
      await this.source.flush();
      const records = this.readNewRecords();
      parts.push(records);
      watch.feed(decodePcap(Buffer.concat([this.header!, records])).segments.filter(matches));
    };
    await take();
    while (!watch.done && performance.now() - started < bound) {
      await sleep(opts.pollMs ?? POLL_MS);
      await take();
    }
    const how = watch.done;
    // One more flush: a retransmission the sender sent before it processed the last ACK is in
    // the capture ring before this sentinel.
    if (how) await take();
    const waitedMs = performance.now() - started;
    const counters = await this.source.stats();
    const droppedByKernel = counters.droppedByKernel - this.dropped;
    this.dropped = counters.droppedByKernel;
    this.punchConsumed();

    const chunk = Buffer.concat([this.header!, ...parts]);
    const decoded = decodePcap(chunk);
    const pcap = slicePcap(chunk, matches);
    // Renumber by position in the slice, so packet numbers in the evidence are case.pcap's.
    const segments = decoded.segments.filter(matches).map((s, i) => ({ ...s, index: i }));
    return {
      stream: reassemble(segments, conn),
      pcap,
      segments,
      packets: segments.length,
      droppedByKernel,
      undecoded: { fragments: decoded.skipped.fragments, headerTruncated: decoded.skipped.headerTruncated },
      finished: how
        ? { ok: true, reason: how, waitedMs }
        : { ok: false, reason: `not finished on the wire after ${Math.round(waitedMs)} ms: ${watch.missing()}`, waitedMs },
      iface: this.opts.iface,
    };
  }

  /** Apparent size of the session file and the bytes it really occupies. */
  storage(): CaptureStorage & { unbounded: string | null } {
    const fd = openSync(this.file, 'r');
    try {
      const st = fstatSync(fd);
      this.peakResident = Math.max(this.peakResident, st.blocks * 512);
      return { fileBytes: st.size, residentBytes: st.blocks * 512, peakResidentBytes: this.peakResident, unbounded: this.punchUnsupported };
    } finally {
      closeSync(fd);
    }
  }

  /** Every complete record written since the last read (without the global header). */
  private readNewRecords(): Buffer {
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (!this.header) {
        const header = Buffer.alloc(GLOBAL_HEADER);
        if (readSync(fd, header, 0, GLOBAL_HEADER, 0) !== GLOBAL_HEADER) throw new Error(`${this.file}: no pcap header yet`);
        this.little = header.readUInt32LE(0) === 0xa1b2c3d4 || header.readUInt32LE(0) === 0xa1b23c4d;
        this.header = header;
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
      return body.subarray(0, end);
    } finally {
      closeSync(fd);
    }
  }

  /** Frees the pages of everything read so far (the header is kept in memory). */
  private punchConsumed(): void {
    if (this.opts.keepFile || this.punchUnsupported) return;
    const to = Math.floor(this.readOffset / PUNCH_ALIGN) * PUNCH_ALIGN;
    if (to <= this.punchedTo) return;
    const fd = openSync(this.file, 'r+');
    try {
      this.peakResident = Math.max(this.peakResident, fstatSync(fd).blocks * 512);
      native.fallocate(fd, FILE.FALLOC_FL_PUNCH_HOLE | FILE.FALLOC_FL_KEEP_SIZE, this.punchedTo, to - this.punchedTo);
      this.punchedTo = to;
    } catch (e) {
      // e.g. a ZCPROBE_WORKDIR on a filesystem without hole punching: correct, just unbounded
      if ((e as NodeJS.ErrnoException).code !== 'EOPNOTSUPP') throw e;
      this.punchUnsupported = `${this.file}: hole punching not supported (EOPNOTSUPP); the session capture grows with every case`;
      process.stderr.write(`zcprobe: ${this.punchUnsupported}\n`);
    } finally {
      closeSync(fd);
    }
  }

  async stop(): Promise<CaptureCounters> {
    return this.source.stop();
  }
}
