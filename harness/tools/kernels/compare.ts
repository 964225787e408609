// Kernels side by side: a column per kernel for every cell, probe, observation and test total. A contradicted universal claim or a
// failed suite is a failure, any other difference a finding (observation rates: Fisher's exact test at 1 %); an inconclusive,
// skipped or absent cell decides nothing (docs/kernels.md).
import { describeRate, FINDING_ALPHA, type Observation } from '../../model/baselines.ts';
import { ratesDiffer } from '../../model/stats.ts';
import type { Probe } from '../../world/probes.ts';
import { CORRUPTED, VERDICTS, type MatrixCell, type Report, type Verdict } from '../../report/types.ts';
import { claimForCell, type CellClaim } from './cell-claims.ts';
import type { KernelResults } from './results.ts';
import type { TapSummary } from './tap.ts';

export interface KernelColumn {
  /** column title: "6.1.0-57-cloud-amd64 (qemu TCG)" */
  title: string;
  kernel: string;
  /** completed / timeout / failed, and why (absent for plain report files) */
  run?: { end: string; suiteStatus: number | null; error?: string; wallS: number; qemuS?: number; bootS?: number; suiteS?: number };
  report?: Report;
  probes?: Probe[];
  tap?: TapSummary;
  observations?: Observation[];
}

export type RowStatus = 'same' | 'finding' | 'failure' | 'undecided';

export interface Row {
  what: string;
  /** one value per column; null: that kernel has no value */
  values: (string | null)[];
  status: RowStatus;
  why?: string;
  claim?: CellClaim;
}

export interface Comparison {
  columns: { title: string; kernel: string; run?: KernelColumn['run']; tests?: string }[];
  cells: Row[];
  probes: Row[];
  observations: Row[];
  tests: Row[];
  failures: number;
  findings: number;
}

const isCorrupted = (v: Verdict) => CORRUPTED.includes(v);
const VERDICT_KINDS = VERDICTS;
const decided = (v: Verdict | null | undefined): v is Verdict => !!v && v !== 'inconclusive' && v !== 'skipped';

/** What a verdict says about a universal claim: conforms, contradicts, or nothing. */
export function judge(claim: CellClaim, v: Verdict | null | undefined): 'conforms' | 'contradicts' | 'undecided' {
  if (!decided(v)) return 'undecided';
  const corrupted = isCorrupted(v);
  return (claim.expect === 'holds') === !corrupted ? 'conforms' : 'contradicts';
}

function differs(values: (string | null)[]): boolean {
  return new Set(values.filter((v): v is string => v !== null)).size > 1;
}

/** The report's own headline, e.g. "3/3 corrupted (1 on wire, 2 after wire)" */
function summary(c: MatrixCell): string {
  return c.headline;
}

function cellRows(cols: KernelColumn[]): Row[] {
  const keyOf = (c: { method: string; safeguard: string; transport: string }) => `${c.method} × ${c.safeguard} × ${c.transport}`;
  const keys: string[] = [];
  const byKey = cols.map((col) => new Map((col.report?.cells ?? []).map((c) => [keyOf(c), c])));
  for (const m of byKey) for (const k of m.keys()) if (!keys.includes(k)) keys.push(k);
  return keys.map((what): Row => {
    const cells = byKey.map((m) => m.get(what));
    const first = cells.find(Boolean)!;
    const claim = claimForCell(first.method, first.safeguard);
    const verdicts = cells.map((c) => c?.verdict ?? null);
    const values = cells.map((c) => (c ? summary(c) : null));
    if (claim?.kind === 'universal') {
      const against = cols.map((col, i) => ({ col, v: verdicts[i], j: judge(claim, verdicts[i]) })).filter((x) => x.j === 'contradicts');
      if (against.length)
        return { what, values, claim, status: 'failure', why: `universal claim ${claim.id} expects it to ${claim.expect === 'holds' ? 'hold (no corruption)' : 'be falsified (corruption)'}: ${against.map((x) => `${x.col.kernel} shows ${x.v}`).join(', ')}` };
    }
    const decidedVerdicts = verdicts.filter(decided);
    if (differs(decidedVerdicts)) return { what, values, claim, status: 'finding', why: claim?.kind === 'universal' ? `every kernel conforms to ${claim.id}, in different ways` : `observation${claim ? ` (${claim.id})` : ''}: kernels differ` };
    if (decidedVerdicts.length < cols.length && differs(verdicts.map((v) => v ?? 'absent'))) return { what, values, claim, status: 'undecided', why: 'a kernel could not tell (inconclusive, skipped or absent)' };
    // same headline verdict, but one kernel's cases came out as other verdicts than another's
    // (e.g. all on the wire vs some only after it): worth a look, with few cases maybe timing
    const mixes = cells.map((c) => (c ? VERDICT_KINDS.filter((v) => (c.counts[v] ?? 0) > 0).join('+') : null));
    if (differs(mixes)) return { what, values, claim, status: 'finding', why: `same verdict, different mix of case verdicts (${cols.map((col, i) => `${col.kernel}: ${mixes[i] ?? '—'}`).join('; ')})` };
    return { what, values, claim, status: 'same' };
  });
}

function probeRows(cols: KernelColumn[]): Row[] {
  const names = [...new Set(cols.flatMap((c) => (c.probes ?? []).map((p) => p.name)))];
  return names.map((name): Row => {
    const values = cols.map((c) => {
      const p = c.probes?.find((x) => x.name === name);
      return p ? (p.ok ? 'ok' : `missing: ${p.detail}`) : null;
    });
    const oks = values.map((v) => (v === null ? null : v === 'ok' ? 'ok' : 'missing'));
    return differs(oks) ? { what: name, values, status: 'finding', why: 'the kernels differ in what they can run' } : { what: name, values, status: 'same' };
  });
}

function observationRows(cols: KernelColumn[]): Row[] {
  const keys = [...new Set(cols.flatMap((c) => (c.observations ?? []).map((o) => `${o.id} (${o.transport})`)))];
  return keys.map((what): Row => {
    // the last recording of an id wins, as in a baseline
    const found = cols.map((c) => [...(c.observations ?? [])].reverse().find((o) => `${o.id} (${o.transport})` === what) ?? null);
    const values = found.map((o) => (o ? describeRate(o) : null));
    const present = found.filter((o): o is Observation => o !== null);
    const events = new Set(present.map((o) => o.event));
    if (events.size > 1) return { what, values, status: 'finding', why: 'the kernels counted different events' };
    // Every pair, as against a baseline: a difference chance explains less than 1 % of the time.
    let least: { p: number; a: Observation; b: Observation } | null = null;
    for (let i = 0; i < present.length; i++)
      for (let j = i + 1; j < present.length; j++) {
        const { p } = ratesDiffer(present[i]!, present[j]!, FINDING_ALPHA);
        if (!least || p < least.p) least = { p, a: present[i]!, b: present[j]! };
      }
    if (least && least.p < FINDING_ALPHA) {
      const p = least.p.toPrecision(2);
      const why = `an observation (kernel-dependent by design): rates differ beyond chance (Fisher's exact test, p = ${p})`;
      return { what, values, status: 'finding', why };
    }
    return { what, values, status: 'same' };
  });
}

function testRows(cols: KernelColumn[]): Row[] {
  if (!cols.some((c) => c.tap)) return [];
  const values = cols.map((c) => (c.tap ? `${c.tap.pass} passed, ${c.tap.fail} failed, ${c.tap.skip} skipped${c.tap.complete ? '' : ' (incomplete)'}` : null));
  const failing = cols.filter((c) => c.tap && (c.tap.fail > 0 || !c.tap.complete));
  const row: Row = { what: 'test suite', values, status: failing.length ? 'failure' : 'same' };
  if (failing.length) row.why = failing.map((c) => `${c.kernel}: ${c.tap!.complete ? c.tap!.failed.slice(0, 5).join('; ') : 'the run did not complete'}`).join(' | ');
  return [row];
}

export function compareColumns(cols: KernelColumn[]): Comparison {
  const cells = cellRows(cols);
  const probes = probeRows(cols);
  const observations = observationRows(cols);
  const tests = testRows(cols);
  const all = [...cells, ...probes, ...observations, ...tests];
  return {
    columns: cols.map((c) => ({ title: c.title, kernel: c.kernel, ...(c.run ? { run: c.run } : {}), ...(c.tap ? { tests: `${c.tap.pass}/${c.tap.fail}/${c.tap.skip}` } : {}) })),
    cells,
    probes,
    observations,
    tests,
    failures: all.filter((r) => r.status === 'failure').length,
    findings: all.filter((r) => r.status === 'finding').length,
  };
}

export function columnFromResults(r: KernelResults): KernelColumn {
  const where = r.run.where === 'host' ? 'host' : `qemu ${/^KVM/.test(r.run.accel ?? '') ? 'KVM' : 'TCG'}`;
  return {
    title: `${r.kernel} (${where})`,
    kernel: r.kernel,
    run: { end: r.run.end, suiteStatus: r.run.suiteStatus, ...(r.run.error ? { error: r.run.error } : {}), ...r.run.timings },
    ...(r.report ? { report: r.report } : {}),
    ...(r.probes ? { probes: r.probes } : {}),
    ...(r.tap ? { tap: r.tap } : {}),
    ...(r.observations ? { observations: r.observations } : {}),
  };
}

export function compareKernels(results: KernelResults[]): Comparison {
  return compareColumns(results.map(columnFromResults));
}

export function columnFromReport(r: Report): KernelColumn {
  return { title: r.host.kernel, kernel: r.host.kernel, report: r };
}

const MARK: Record<RowStatus, string> = { same: '', finding: 'FINDING', failure: 'FAILURE', undecided: 'undecided' };

/** The kernels view as text (aligned columns) or Markdown (a table per section). By default only
 * rows that are not "same" are listed in text; Markdown lists every cell. */
export function renderKernelsView(c: Comparison, format: 'text' | 'markdown', opts: { all?: boolean } = {}): string {
  const all = opts.all ?? format === 'markdown';
  const out: string[] = [];
  const runLine = (col: Comparison['columns'][number]) => {
    const r = col.run;
    if (!r) return `- ${col.title}`;
    const t = [r.qemuS !== undefined ? `qemu ${r.qemuS} s` : '', r.bootS !== undefined ? `boot ${r.bootS} s` : '', r.suiteS !== undefined ? `suite ${r.suiteS} s` : '', `wall ${r.wallS} s`].filter(Boolean).join(', ');
    return `- ${col.title}: ${r.end}${r.suiteStatus !== null ? ` (suite exit ${r.suiteStatus})` : ''}, ${t}${r.error ? ` — ${r.error}` : ''}`;
  };
  out.push(format === 'markdown' ? '### Kernels\n' : 'kernels:');
  out.push(...c.columns.map(runLine), '');
  const section = (title: string, rows: Row[]) => {
    const shown = all ? rows : rows.filter((r) => r.status !== 'same');
    if (!rows.length) return;
    if (format === 'markdown') {
      out.push(`### ${title}\n`, `| ${['', ...c.columns.map((x) => x.title), ''].join(' | ')} |`, `|${' --- |'.repeat(c.columns.length + 2)}`);
      for (const r of shown) out.push(`| ${[r.what, ...r.values.map((v) => v ?? '—'), r.status === 'same' ? '' : `**${MARK[r.status]}**${r.why ? `: ${r.why}` : ''}`].join(' | ').replace(/\n/g, ' ')} |`);
      out.push('');
      return;
    }
    out.push(`${title}: ${shown.length ? '' : `all ${rows.length} agree on every kernel${title === 'cells' ? ' (same verdicts; counts may differ with timing)' : ''}`}`);
    if (!shown.length) return out.push('');
    const w0 = Math.max(...shown.map((r) => r.what.length));
    const ws = c.columns.map((col, i) => Math.min(50, Math.max(col.title.length, ...shown.map((r) => (r.values[i] ?? '—').length))));
    out.push(`  ${''.padEnd(w0)}  ${c.columns.map((col, i) => col.title.padEnd(ws[i]!)).join('  ')}`);
    for (const r of shown) {
      out.push(`  ${r.what.padEnd(w0)}  ${r.values.map((v, i) => (v ?? '—').slice(0, 50).padEnd(ws[i]!)).join('  ')}  ${MARK[r.status]}`);
      if (r.why) out.push(`  ${''.padEnd(w0)}    ${r.why}`);
    }
    out.push('');
  };
  section('cells', c.cells);
  section('doctor', c.probes);
  section('observations', c.observations);
  section('tests', c.tests);
  out.push(`${c.failures} failure(s), ${c.findings} finding(s)${c.failures ? ' — a failure is a universal claim contradicted (or a failed test): see above' : ''}`);
  return out.join('\n') + '\n';
}
