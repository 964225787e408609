// tshark (Wireshark's command-line dissector) as an implementation nobody here wrote: what it
// says a capture holds, frame by frame, its own reassembly of a TCP stream ("Follow TCP
// Stream"), which frames a display filter selects, and the comments of a pcapng. Tests use it
// to check zcprobe's decoder, reassembler and annotated evidence. Every call is bounded.
import { spawnSync } from 'node:child_process';

const TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 1 << 30;
// Control characters cannot occur in tshark's field values we read (hex, numbers, addresses,
// our own comments), so they separate fields and repeated values unambiguously.
const FIELD_SEP = '\x1e';
const VALUE_SEP = '\x1f';
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };

function run(args: string[]): string {
  const r = spawnSync('tshark', args, { env: ENV, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT });
  if (r.error) throw new Error(`tshark ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} exited ${r.status}: ${(r.stderr ?? '').replace(/^Running as user.*\n/m, '').trim()}`);
  return r.stdout;
}

/** null when tshark runs here, else one line saying why not and how to get it. */
export function tsharkUnavailableReason(): string | null {
  const r = spawnSync('tshark', ['--version'], { env: ENV, encoding: 'utf8', timeout: TIMEOUT_MS });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return 'tshark not found (scripts/setup.sh installs it; apt-get install tshark)';
  if (r.error) return `tshark --version: ${r.error.message}`;
  if (r.status !== 0) return `tshark --version exited ${r.status}: ${(r.stderr ?? '').trim().split('\n')[0]}`;
  return null;
}

/** "TShark (Wireshark) 4.0.17 ..." → "4.0.17" (for logs only; nothing depends on it). */
export function tsharkVersion(): string {
  return /TShark \(Wireshark\) (\S+)/.exec(run(['--version']))?.[1] ?? 'unknown';
}

export interface TsharkFrame {
  /** 1-based, as Wireshark numbers frames */
  number: number;
  /** µs since the epoch, from frame.time_epoch */
  tsUs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** the sequence number as on the wire (tcp.seq_raw), not Wireshark's relative one */
  seq: number;
  /** tcp.flags: the 12 flag bits */
  flags: number;
  /** tcp.len: payload length from the IP and TCP headers */
  length: number;
  payload: Buffer;
  /** tcp.analysis.* flags tshark set on this frame, e.g. "retransmission", "out_of_order" */
  analysis: string[];
}

const ANALYSES = ['retransmission', 'fast_retransmission', 'spurious_retransmission', 'out_of_order', 'lost_segment'] as const;
const FIELDS = ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport',
  'tcp.seq_raw', 'tcp.flags', 'tcp.len', 'tcp.payload', ...ANALYSES.map((a) => `tcp.analysis.${a}`)];

/** "1796029788.181236000" → 1796029788181236 (exact: no floating point). */
function epochToUs(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1e6 + Number(frac.padEnd(9, '0').slice(0, 6));
}

/**
 * Every TCP frame of `file` as tshark dissects it. TCP reassembly across frames is off
 * (`tcp.desegment_tcp_streams:FALSE`), so each frame's payload is that frame's own bytes.
 */
export function tsharkFrames(file: string): TsharkFrame[] {
  const out = run(['-n', '-r', file, '-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'tcp.analyze_sequence_numbers:TRUE', '-Y', 'tcp',
    '-T', 'fields', '-E', `separator=${FIELD_SEP}`, '-E', `aggregator=${VALUE_SEP}`, '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f])]);
  const frames: TsharkFrame[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const v = line.split(FIELD_SEP);
    if (v.length !== FIELDS.length) throw new Error(`tshark printed ${v.length} fields instead of ${FIELDS.length}: ${line.slice(0, 200)}`);
    const [num, time, ip4src, ip4dst, ip6src, ip6dst, sport, dport, seq, flags, len, payload] = v as string[] & { length: 12 };
    // A tunnelled packet would repeat ip.src; none of ours is, so more than one value is an error.
    const one = (s: string, what: string) => {
      if (s.includes(VALUE_SEP)) throw new Error(`frame ${num}: ${what} has several values (${s.split(VALUE_SEP).join(', ')})`);
      return s;
    };
    frames.push({
      number: Number(num),
      tsUs: epochToUs(time!),
      src: one(ip4src || ip6src!, 'source address'),
      dst: one(ip4dst || ip6dst!, 'destination address'),
      srcPort: Number(one(sport!, 'source port')),
      dstPort: Number(one(dport!, 'destination port')),
      seq: Number(one(seq!, 'tcp.seq_raw')),
      flags: Number(one(flags!, 'tcp.flags')),
      length: Number(one(len!, 'tcp.len')),
      payload: Buffer.from(one(payload!, 'tcp.payload'), 'hex'),
      analysis: ANALYSES.filter((_, i) => v[12 + i] !== ''),
    });
  }
  return frames;
}

export interface FollowedStream {
  /** "address:port" of the side that opened the connection (Node 0) and of the other side */
  client: string;
  server: string;
  /** bytes client → server and server → client, as Wireshark's Follow TCP Stream shows them */
  clientBytes: Buffer;
  serverBytes: Buffer;
}

/** Wireshark's own reassembly of TCP stream `stream` (`-z follow,tcp,raw,N`). */
export function tsharkFollow(file: string, stream = 0): FollowedStream {
  const out = run(['-n', '-r', file, '-q', '-z', `follow,tcp,raw,${stream}`]);
  const nodes = [...out.matchAll(/^Node ([01]): (.*)$/gm)];
  const client = nodes.find((m) => m[1] === '0')?.[2];
  const server = nodes.find((m) => m[1] === '1')?.[2];
  if (client === undefined || server === undefined) throw new Error(`tshark follow: no "Node 0/1" lines in its output: ${out.slice(0, 300)}`);
  const c: Buffer[] = [];
  const s: Buffer[] = [];
  // After the header, each line is one chunk in hex; the server's chunks are indented by a tab.
  const body = out.slice(out.indexOf('\n', nodes[nodes.length - 1]!.index) + 1);
  for (const line of body.split('\n')) {
    if (!line || line.startsWith('=')) continue;
    if (line.startsWith('\t')) s.push(Buffer.from(line.slice(1), 'hex'));
    else c.push(Buffer.from(line, 'hex'));
  }
  return { client, server, clientBytes: Buffer.concat(c), serverBytes: Buffer.concat(s) };
}

/** Frame numbers `filter` (a Wireshark display filter) selects in `file`. */
export function tsharkSelect(file: string, filter: string): number[] {
  return run(['-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).map(Number);
}

/** Packet comments (frame.comment) by frame number. */
export function tsharkFrameComments(file: string): Map<number, string[]> {
  const out = run(['-n', '-r', file, '-Y', 'frame.comment', '-T', 'fields', '-E', `separator=${FIELD_SEP}`, '-E', `aggregator=${VALUE_SEP}`,
    '-E', 'occurrence=a', '-e', 'frame.number', '-e', 'frame.comment']);
  const map = new Map<number, string[]>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [num, comments = ''] = line.split(FIELD_SEP);
    map.set(Number(num), comments.split(VALUE_SEP));
  }
  return map;
}

/** The capture file's (section header) comments, as `capinfos -k` prints them. */
export function captureFileComments(file: string): string[] {
  const r = spawnSync('capinfos', ['-k', file], { env: ENV, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT });
  if (r.error || r.status !== 0) throw new Error(`capinfos -k ${file}: ${r.error?.message ?? (r.stderr ?? '').trim()}`);
  return [...r.stdout.matchAll(/^Capture comment:\s+(.*)$/gm)].map((m) => m[1]!);
}
