// The human-readable form of a BenchReport: one table per message size, then the harness/C
// ratio per method and the cost of each safeguard against plain write().
import { formatSize } from '../../model/experiment.ts';
import type { BenchReport, RowSummary, Stat } from './report.ts';

function fmt(s: Stat | null, digits = 0, scale = 1): string {
  if (!s) return '-';
  const f = (x: number) => (x * scale).toFixed(digits);
  return s.n > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median);
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
}

function table(header: string[], body: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [pad(header, widths), pad(widths.map((w) => '-'.repeat(w)), widths), ...body.map((r) => pad(r, widths))];
}

const HEADER = ['method', 'safeguard', 'impl', 'MB/s', 'sender CPU ms/GB', 'receiver CPU ms/GB', 'COPIED %', 'MB/s vs write', 'harness/C'];

const LINK_HEADER = ['link kpkt/s', 'relay CPU ms/GB'];

function rowCells(r: RowSummary, link: boolean): string[] {
  const extra = link ? [fmt(r.linkPacketsPerSec, 0, 1e-3), fmt(r.relayCpuMsPerGB)] : [];
  return [
    r.method,
    r.safeguard,
    r.impl === 'c' ? 'C' : 'harness',
    fmt(r.throughputMBps),
    fmt(r.senderCpuMsPerGB),
    fmt(r.receiverCpuMsPerGB),
    fmt(r.copiedFraction, 0, 100),
    r.vsWrite ? fmt(r.vsWrite.throughput, 2) : '',
    r.harnessOverC ? fmt(r.harnessOverC, 2) : '',
    ...extra,
  ];
}

export function formatTable(rep: BenchReport): string {
  const cfg = rep.config as { sizes: number[]; total: number; safeguardTotal: number; runs: number; warmupTotal: number; pipeSize: number };
  const out: string[] = [];
  out.push(`zcprobe bench — ${rep.transport}; kernel ${rep.host.kernel}, ${rep.host.cpus} CPUs (${rep.host.cpuModel}), node ${rep.host.node}`);
  out.push(
    `${cfg.runs} interleaved rounds; ${formatSize(cfg.total)} per plain run, ${formatSize(cfg.safeguardTotal)} per safeguard run; ` +
      `untimed warm-up ${formatSize(cfg.warmupTotal)} per row; pipe ${formatSize(cfg.pipeSize)}.`,
    'Figures: median [min–max] over rounds; MB = 10^6 B, GB = 10^9 B.',
  );
  for (const size of cfg.sizes) {
    const rows = rep.rows.filter((r) => r.size === size);
    if (!rows.length) continue;
    out.push('', `message size ${formatSize(size)}`);
    const link = rows.some((r) => r.linkPacketsPerSec);
    out.push(...table(link ? [...HEADER, ...LINK_HEADER] : HEADER, rows.map((r) => rowCells(r, link))).map((l) => '  ' + l));
  }

  const methods = [...new Set(rep.harnessOverC.map((r) => r.method))];
  if (rep.harnessOverC.some((r) => r.throughput)) {
    out.push('', 'harness/C throughput, same method and size, same round:');
    const throughput = (m: string, size: number) => rep.harnessOverC.find((r) => r.method === m && r.size === size)?.throughput ?? null;
    const body = methods.map((m) => [m, ...cfg.sizes.map((size) => fmt(throughput(m, size), 2))]);
    out.push(...table(['method', ...cfg.sizes.map(formatSize)], body).map((l) => '  ' + l));
  }

  const safe = rep.rows.filter((r) => r.safeguard !== 'none' && r.vsWrite);
  if (safe.length) {
    out.push('', 'cost of safety vs plain write(), same size, same round (MB/s ratio; sender CPU/GB ratio):');
    const kinds = [...new Set(safe.map((r) => `${r.method} + ${r.safeguard}`))];
    const body = kinds.map((k) => [
      k,
      ...cfg.sizes.map((size) => {
        const r = safe.find((x) => `${x.method} + ${x.safeguard}` === k && x.size === size);
        return r?.vsWrite ? `${fmt(r.vsWrite.throughput, 2)}; ${fmt(r.vsWrite.senderCpu, 2)}` : '-';
      }),
    ]);
    out.push(...table(['method + safeguard', ...cfg.sizes.map(formatSize)], body).map((l) => '  ' + l));
  }

  const errors = rep.rows.flatMap((r) => r.errors.map((e) => `  ${r.impl} ${r.method} + ${r.safeguard} @ ${formatSize(r.size)}: ${e}`));
  if (errors.length) out.push('', 'failed runs:', ...errors);
  if (rep.skipped.length) out.push('', 'skipped:', ...rep.skipped.map((s) => `  ${s.impl} ${s.method}: ${s.reason}`));
  out.push('', ...rep.notes.map((n) => `note: ${n}`));
  out.push('', `elapsed ${(rep.elapsedMs / 1000).toFixed(1)} s`);
  return out.join('\n') + '\n';
}

/** Plain harness rows of several transports side by side: MB/s, and for tun packets/s and relay CPU. */
export function formatSideBySide(reps: BenchReport[]): string {
  const name = (rep: BenchReport) => String((rep.config as { transport: string }).transport);
  const sizes = [...new Set(reps.flatMap((rep) => (rep.config as { sizes: number[] }).sizes))];
  const out = ['', `harness MB/s per transport (plain rows; ${reps.map(name).join(', ')}):`];
  for (const size of sizes) {
    const methods = [...new Set(reps.flatMap((rep) => rep.rows.filter((r) => r.size === size && r.impl === 'harness').map((r) => `${r.method} + ${r.safeguard}`)))];
    const body = methods.map((m) => [m, ...reps.map((rep) => {
      const r = rep.rows.find((x) => x.size === size && x.impl === 'harness' && `${x.method} + ${x.safeguard}` === m);
      if (!r) return '-';
      const link = r.linkPacketsPerSec ? ` (${fmt(r.linkPacketsPerSec, 0, 1e-3)} kpkt/s, relay ${fmt(r.relayCpuMsPerGB)} ms/GB)` : '';
      return `${fmt(r.throughputMBps)}${link}`;
    })]);
    out.push('', `message size ${formatSize(size)}`, ...table(['method + safeguard', ...reps.map(name)], body).map((l) => '  ' + l));
  }
  return out.join('\n') + '\n';
}
