// Reads what the preload shim (native/shim/zcshim.c) logged for each process of a wrapped program:
// one JSON line per event in <dir>/<pid>-<ns>.log, the bytes it snapshotted in the .data file beside it.
// Plain parsing only; streams.ts turns a connection's events into I and the bytes written in flight.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { formatIPv6 } from './pcap.ts';

export type RangeKind = 'msg_zerocopy' | 'send_zc' | 'sendmsg_zc' | 'vmsplice' | 'file';

export type ShimEvent =
  | {
    ev: 'start'; pid: number; ppid: number; exe: string; cap: number; protect: number;
    /** 1: pages no range needs stay read-only until written (ZCSHIM_LINGER=0 turns it off) */ linger: number;
    pg: number; uring: number; t: number;
  }
  | { ev: 'conn'; conn: number; fd: number; local: string; peer: string; t: number }
  | {
    ev: 'range'; range: number; kind: RangeKind; addr?: string; dev?: number; ino?: number; foff?: number; len: number; zc?: number;
    protected: number; t: number;
  }
  /** data: offset of the bytes at the call in the .data file, -1 when not recorded */
  | { ev: 'send'; conn: number; fd: number; call: string; off: number; len: number; data: number; range?: number; roff?: number; t: number }
  | { ev: 'result'; range: number; res: number }
  | { ev: 'release'; range: number; how: string; t: number }
  /** bytes written into a range while in flight; zero: the file was cut there (the kernel reads zeros) */
  | { ev: 'write'; range: number; roff: number; len: number; data?: number; zero?: number; ip?: string; by: string; t: number }
  | { ev: 'finding'; kind: string; range: number; roff: number; len: number; ip: string; t: number }
  | { ev: 'site'; ip: string; exact: number; bt: string[] }
  | { ev: 'close'; conn: number; fd: number; bytes: number; t: number }
  | { ev: 'blind'; what: string; fd?: number }
  | { ev: 'note'; what: string }
  | { ev: 'cap'; cap: number; what: string; t: number }
  | { ev: 'crash'; sig: number; addr: string; ip: string; inShim: number; why: string; bt: string[]; t: number }
  | {
    ev: 'exit'; faults: number; sharedPageFaults: number; syncs: number; snapshotBytes: number; droppedBytes: number; inFlight: number;
    /** writes that opened pages kept read-only ahead of a send (not in flight, no finding) */
    lingerOpens: number; t: number;
  };

/** One process's log (a wrapped program that forks or execs has several). */
export interface ShimProcessLog {
  /** path prefix: .log, .data and .maps */
  prefix: string;
  pid: number;
  exe: string;
  startedAt: number;
  events: ShimEvent[];
  /** lines that were not JSON (a torn last line after SIGKILL): counted, never guessed */
  unreadable: number;
  /** /proc/self/maps as the process saw it (at its first finding and at exit), for addr2line */
  maps: MapEntry[];
}

export interface MapEntry {
  start: bigint;
  end: bigint;
  offset: bigint;
  path: string;
}

export function parseMaps(text: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    const hex = (s: string) => BigInt('0x' + s);
    if (m) out.push({ start: hex(m[1]!), end: hex(m[2]!), offset: hex(m[3]!), path: m[4]!.replace(/ \(deleted\)$/, '') });
  }
  return out;
}

export function parseLog(text: string): { events: ShimEvent[]; unreadable: number } {
  const events: ShimEvent[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as ShimEvent);
    } catch {
      unreadable++;
    }
  }
  return { events, unreadable };
}

/** Every process log under `dir`, oldest first. */
export function readShimLogs(dir: string): ShimProcessLog[] {
  if (!existsSync(dir)) return [];
  const logs: ShimProcessLog[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const prefix = join(dir, name.slice(0, -4));
    const { events, unreadable } = parseLog(readFileSync(`${prefix}.log`, 'utf8'));
    const start = events.find((e): e is Extract<ShimEvent, { ev: 'start' }> => e.ev === 'start');
    if (!start) continue;
    const maps = existsSync(`${prefix}.maps`) ? parseMaps(readFileSync(`${prefix}.maps`, 'utf8')) : [];
    logs.push({ prefix, pid: start.pid, exe: start.exe, startedAt: start.t, events, unreadable, maps });
  }
  return logs.sort((a, b) => a.startedAt - b.startedAt);
}

/** Reads snapshotted bytes from a process's .data file. */
export class ShimData {
  private fd: number | null = null;
  constructor(private readonly prefix: string) {}

  read(offset: number, length: number): Buffer | null {
    if (offset < 0) return null;
    this.fd ??= openSync(`${this.prefix}.data`, 'r');
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, offset + got);
      if (n === 0) return null;
      got += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** "[0000:…:ffff:7f00:0001]:9123" or "127.0.0.1:9123" → plain address and port (IPv4-mapped → IPv4). */
export function parseEndpoint(s: string): { address: string; port: number } {
  const m = /^\[([0-9a-f:]+)\]:(\d+)$/.exec(s);
  if (!m) {
    const i = s.lastIndexOf(':');
    return { address: s.slice(0, i), port: Number(s.slice(i + 1)) };
  }
  const bytes = Buffer.alloc(16);
  m[1]!.split(':').forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), 2 * i));
  const port = Number(m[2]);
  // an IPv4 client of a dual-stack listener: the capture shows it as IPv4
  const mapped = bytes.subarray(0, 10).every((x) => x === 0) && bytes.readUInt16BE(10) === 0xffff;
  return { address: mapped ? [...bytes.subarray(12)].join('.') : formatIPv6(bytes, 0), port };
}
