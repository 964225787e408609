// Observations are results that depend on the kernel, the transport and sizes (what MSG_ZEROCOPY
// reuse does on loopback, whether SIOCOUTQ = 0 protects with a small receive buffer, what a
// truncation does). The suite records them and compares them with a baseline committed under
// baselines/, one file per kernel major.minor and transport, written by `zcprobe baseline write`.
// A difference is a finding about this host, printed loudly — not a test failure, unless
// ZCPROBE_STRICT=1.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';

export const BASELINES_DIR = resolve(import.meta.dirname, '..', '..', 'baselines');

export interface Observation {
  /** stable id: a claim id, or a test's own (e.g. "mmap-truncate-sigbus") */
  id: string;
  statement: string;
  /** what came out, as a short token: "held", "falsified", "clean 12/12", "EFAULT then SIGBUS" */
  outcome: string;
  transport: string;
  /** one line of supporting detail (minimal case, counts); not compared */
  detail?: string;
}

export interface Baseline {
  /** uname -r of the kernel that produced it */
  kernel: string;
  transport: string;
  writtenAt: string;
  observations: Record<string, { statement: string; outcome: string; detail?: string }>;
}

/** "6.18.44-fc-v857" → "6.18" */
export function kernelSeries(rel = release()): string {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) throw new Error(`cannot read a major.minor kernel version from "${rel}"`);
  return `${m[1]}.${m[2]}`;
}

export function baselinePath(transport: string, rel = release(), dir = BASELINES_DIR): string {
  return join(dir, `${kernelSeries(rel)}-${transport}.json`);
}

export function readBaseline(transport: string, rel = release(), dir = BASELINES_DIR): Baseline | undefined {
  const p = baselinePath(transport, rel, dir);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as Baseline;
}

export type Comparison =
  | { status: 'same'; line: string }
  | { status: 'differs'; line: string }
  | { status: 'no-baseline'; line: string };

/** How an observation compares with the baseline for this kernel series and transport. */
export function compareWithBaseline(o: Observation, baseline: Baseline | undefined, rel = release()): Comparison {
  const where = `${kernelSeries(rel)}/${o.transport}`;
  const known = baseline?.observations[o.id];
  if (!baseline || !known)
    return { status: 'no-baseline', line: `observation ${o.id} on ${rel} (${o.transport}): ${o.outcome} — no baseline for ${where} to compare with (zcprobe baseline write)` };
  if (known.outcome === o.outcome)
    return { status: 'same', line: `observation ${o.id}: ${o.outcome}, as in the ${where} baseline (${baseline.kernel})` };
  return {
    status: 'differs',
    line: `FINDING: ${o.id} on ${rel} (${o.transport}): ${o.outcome}; the ${where} baseline (${baseline.kernel}) says ${known.outcome} — "${o.statement}"`,
  };
}

/** Appends to the JSON-lines file named by ZCPROBE_OBSERVATIONS_FILE, when set. */
export function recordObservation(o: Observation, file = process.env.ZCPROBE_OBSERVATIONS_FILE): void {
  if (file) appendFileSync(file, `${JSON.stringify({ ...o, kernel: release() })}\n`);
}

/** Builds the baseline of one transport from recorded observations (the last one per id wins). */
export function baselineFrom(lines: string, transport: string, rel = release()): Baseline {
  const observations: Baseline['observations'] = {};
  for (const line of lines.split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as Observation & { kernel: string };
    if (o.transport !== transport) continue;
    if (o.kernel !== rel) throw new Error(`observation ${o.id} was recorded on ${o.kernel}, not ${rel}`);
    observations[o.id] = { statement: o.statement, outcome: o.outcome, ...(o.detail ? { detail: o.detail } : {}) };
  }
  return { kernel: rel, transport, writtenAt: new Date().toISOString(), observations };
}

export function writeBaseline(b: Baseline, dir = BASELINES_DIR): string {
  mkdirSync(dir, { recursive: true });
  const p = baselinePath(b.transport, b.kernel, dir);
  const sorted = Object.fromEntries(Object.entries(b.observations).sort(([a], [c]) => a.localeCompare(c)));
  writeFileSync(p, `${JSON.stringify({ ...b, observations: sorted }, null, 2)}\n`);
  return p;
}

export function strictObservations(): boolean {
  return process.env.ZCPROBE_STRICT === '1';
}
