// zcprobe compare a/report.json b/report.json: which matrix cells changed verdict between two
// runs (e.g. two kernels). Prints "no change" when every common cell agrees.
import { readFileSync } from 'node:fs';
import type { MatrixCell, Report } from '../report/types.ts';
import { assertValidReport } from '../report/validate.ts';
import { columnFromReport, compareColumns, renderKernelsView } from '../tools/kernels/compare.ts';
import { UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

const OPTIONS = {
  json: { type: 'boolean', help: 'print the differences as JSON' },
  kernels: { type: 'boolean', help: 'the kernels view: a column per report, universal-claim failures vs findings (also for 3+ files)' },
} satisfies FlagSpecs;

function load(path: string): Report {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    assertValidReport(data);
  } catch (e) {
    throw new UsageError(`${path} is not a zcprobe report: ${(e as Error).message.split('\n')[0]}`);
  }
  return data as Report;
}

export interface CellChange {
  cell: string;
  before: string | null;
  after: string | null;
}

export function compareReports(a: Report, b: Report): CellChange[] {
  const key = (c: MatrixCell) => `${c.method} × ${c.safeguard} × ${c.transport}`;
  const A = new Map(a.cells.map((c) => [key(c), c]));
  const B = new Map(b.cells.map((c) => [key(c), c]));
  const changes: CellChange[] = [];
  for (const k of new Set([...A.keys(), ...B.keys()])) {
    const before = A.get(k)?.verdict ?? null;
    const after = B.get(k)?.verdict ?? null;
    if (before !== after) changes.push({ cell: k, before, after });
  }
  return changes;
}

export const command = defineCommand({
  name: 'compare',
  usage: '<a/report.json> <b/report.json> [more report.json …]',
  options: OPTIONS,
  positionals: true,
  run: compare,
});

function compare(flags: FlagValues<typeof OPTIONS>, positional: string[]): number {
  if (positional.length < 2) throw new UsageError(`needs exactly two report.json paths, got ${positional.length} (or more, for the kernels view)`);
  if (positional.length > 2 || flags.kernels) return kernelsView(positional.map(load), Boolean(flags.json));
  const [a, b] = positional.map(load) as [Report, Report];
  const changes = compareReports(a, b);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ a: { runId: a.runId, kernel: a.host.kernel }, b: { runId: b.runId, kernel: b.host.kernel }, changes }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`a: ${a.runId} (kernel ${a.host.kernel})\nb: ${b.runId} (kernel ${b.host.kernel})\n`);
  if (!changes.length) {
    process.stdout.write(`no change: ${a.cells.length} cells agree\n`);
    return 0;
  }
  for (const c of changes) process.stdout.write(`${c.cell}: ${c.before ?? '(absent)'} → ${c.after ?? '(absent)'}\n`);
  process.stdout.write(`${changes.length} cell(s) changed\n`);
  return 0;
}

/** One column per report (e.g. per kernel); exit 1 when a universal claim is contradicted. */
function kernelsView(reports: Report[], json: boolean): number {
  const c = compareColumns(reports.map(columnFromReport));
  process.stdout.write(json ? JSON.stringify(c, null, 2) + '\n' : renderKernelsView(c, 'text'));
  return c.failures ? 1 : 0;
}
