// Backtrace addresses of a wrapped program → object, function and file:line (addr2line, with inlined
// frames), using the process's own /proc/self/maps as the shim saved it. Without debug info a frame
// stays "object+0xOFFSET". The site of a finding is the innermost frame with a line in the program's
// own code (not a system library), so a write inside memcpy is blamed on the line that called it.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import type { MapEntry } from './shim-log.ts';

export interface Frame {
  /** the address as logged */
  addr: string;
  object: string | null;
  /** file-relative address given to addr2line */
  offset: string | null;
  function: string | null;
  /** "path/to/file.c:18", null without debug info */
  line: string | null;
  /** an inlined frame: it has no address of its own, its caller follows it */
  inlined?: boolean;
}

const SYSTEM = /^\/(usr\/)?lib(32|64|x32)?\//;

function elfType(path: string): number | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(18);
      if (readSync(fd, b, 0, 18, 0) !== 18 || b.readUInt32BE(0) !== 0x7f454c46) return null;
      return b.readUInt16LE(16);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** Is `path` a dynamically linked ELF (one with an interpreter)? null: not an ELF file (e.g. a script). */
export function isDynamicElf(path: string): boolean | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const h = Buffer.alloc(64);
      if (readSync(fd, h, 0, 64, 0) !== 64 || h.readUInt32BE(0) !== 0x7f454c46) return null;
      if (h[4] !== 2) return null; // 32-bit: not inspected
      const phoff = Number(h.readBigUInt64LE(32)), phentsize = h.readUInt16LE(54), phnum = h.readUInt16LE(56);
      const ph = Buffer.alloc(phentsize * phnum);
      readSync(fd, ph, 0, ph.length, phoff);
      for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return true;
      return false;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

function objectOf(maps: readonly MapEntry[], a: bigint): { path: string; rel: bigint } | null {
  const m = maps.find((x) => x.start <= a && a < x.end);
  if (!m) return null;
  // ET_EXEC: addresses are absolute; ET_DYN: relative to where the file's first byte is mapped
  if (elfType(m.path) === 2) return { path: m.path, rel: a };
  const loads = maps.filter((x) => x.path === m.path).map((x) => x.start - x.offset);
  const base = loads.reduce((lo, x) => (x < lo ? x : lo), m.start - m.offset);
  return { path: m.path, rel: a - base };
}

/** Resolves each backtrace (first frame exact when `exact`, the rest return addresses). */
export function symbolize(maps: readonly MapEntry[], traces: { bt: string[]; exact: boolean }[]): Frame[][] {
  type Q = { trace: number; frame: number; object: string; rel: bigint; lookup: bigint };
  const queries: Q[] = [];
  const out: Frame[][] = traces.map((t) => t.bt.map((addr) => ({ addr, object: null, offset: null, function: null, line: null })));
  traces.forEach((t, ti) => t.bt.forEach((addr, fi) => {
    const o = objectOf(maps, BigInt(addr));
    if (!o) return;
    const f = out[ti]![fi]!;
    f.object = o.path;
    f.offset = '0x' + o.rel.toString(16);
    // a return address points after the call: look up the call itself
    queries.push({ trace: ti, frame: fi, object: o.path, rel: o.rel, lookup: t.exact && fi === 0 ? o.rel : o.rel - 1n });
  }));
  const resolved = new Map<string, { function: string | null; line: string | null }[]>();
  for (const object of new Set(queries.map((q) => q.object))) {
    const addrs = [...new Set(queries.filter((q) => q.object === object).map((q) => '0x' + q.lookup.toString(16)))];
    let text = '';
    try {
      const args = ['-e', object, '-f', '-i', '-C', '-a', ...addrs];
      text = execFileSync('addr2line', args, { encoding: 'utf8', timeout: 10000, maxBuffer: 16 << 20 });
    } catch {
      continue; // no addr2line, or an object it cannot read: frames keep object+offset
    }
    let cur: string | null = null;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (/^0x[0-9a-f]+$/.test(l)) {
        cur = `${object}@0x${BigInt(l).toString(16)}`;
        resolved.set(cur, []);
        continue;
      }
      if (!cur || !l) continue;
      const fn = l, loc = lines[++i] ?? '';
      const line = /^\?\?:|:0$|:\?$/.test(loc) ? null : loc.replace(/ \(discriminator \d+\)$/, '');
      resolved.get(cur)!.push({ function: fn === '??' ? null : fn, line });
    }
  }
  return out.map((frames, ti) => frames.flatMap((f, fi) => {
    const q = queries.find((x) => x.trace === ti && x.frame === fi);
    const r = q && resolved.get(`${q.object}@0x${q.lookup.toString(16)}`);
    if (!r?.length) return [f];
    return r.map((x, k) => ({ ...f, function: x.function, line: x.line, ...(k < r.length - 1 ? { inlined: true } : {}) }));
  }));
}

/** Where a finding happened: the innermost frame with a line outside the system libraries. */
export function siteOf(frames: readonly Frame[]): string | null {
  const own = frames.find((f) => f.line && f.object && !SYSTEM.test(f.object));
  return own?.line ?? frames.find((f) => f.line)?.line ?? (frames[0]?.object ? `${frames[0].object}+${frames[0].offset}` : null);
}

/** "main (zc-refill.c:18)", "memcpy (libc.so.6+0x1234)" */
export function formatFrame(f: Frame): string {
  const where = f.line ?? (f.object ? `${f.object.split('/').pop()}+${f.offset}` : f.addr);
  return `${f.function ?? '??'} (${where})${f.inlined ? ' [inlined]' : ''}`;
}
