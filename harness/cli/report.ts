// zcprobe report (npm start): runs the evidence suite and writes captures/<run-id>/report.{html,json,md}.
import { join } from 'node:path';
import { METHODS, parseSize, TRANSPORTS } from '../experiment.ts';
import { runEvidenceSuite } from '../evidence-suite.ts';
import { writeReport } from '../report/write.ts';
import { CAPTURES_DIR, newRunId } from '../session.ts';
import { flagValue, helpText, listFlag, nonNegativeInt, parseFlags, UsageError, type FlagSpec } from './args.ts';
import { progressPrinter } from './progress.ts';
import { NIC_FLAG, transportsFromFlags } from './transport-flags.ts';

const SPEC: Record<string, FlagSpec> = {
  repeats: { value: '<n>', help: 'repetitions of each stress case per cell (default 2)' },
  transport: { value: '<name>', repeatable: true, help: `limit to a transport (${TRANSPORTS.join(', ')}); repeatable (default: all)` },
  method: { value: '<name>', repeatable: true, help: 'limit to a method; repeatable (default: all)' },
  'cost-total': { value: '<size>', help: 'bytes per bench run for the cost chart; 0 skips it (default 256MiB)' },
  out: { value: '<dir>', help: 'output directory (default captures/<run-id>)' },
  ...NIC_FLAG,
  help: { boolean: true, help: 'this help' },
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, SPEC);
  if (flags.help) {
    process.stdout.write(helpText('usage: zcprobe report [flags]   (also: npm start)', SPEC));
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const repeats = flagValue(flags, 'repeats', nonNegativeInt) ?? 2;
  if (repeats < 1) throw new UsageError('--repeats must be at least 1');
  const { transports, nicPair } = transportsFromFlags(flags);
  const methods = listFlag(flags, 'method', METHODS);
  const costTotal = flagValue(flags, 'cost-total', parseSize) ?? 256 << 20;
  const runId = newRunId();
  const runDir = (flags.out as string | undefined) ?? join(CAPTURES_DIR, runId);
  const progress = progressPrinter();
  progress.line(`zcprobe evidence suite → ${runDir}`);
  const report = await runEvidenceSuite({ nicPair, runDir, runId, repeats, transports, methods, costTotal, onProgress: progress.update, onPhase: progress.line });
  progress.done();
  const paths = writeReport(runDir, report);
  const counts = new Map<string, number>();
  for (const c of report.cells) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  process.stdout.write(`${report.cells.length} cells: ${[...counts].map(([v, n]) => `${n} ${v}`).join(', ')}; ${report.counterexamples.length} counterexamples; ${(report.durationMs / 1000).toFixed(0)} s\n`);
  process.stdout.write(`report: ${paths.html}\n        ${paths.md}\n        ${paths.json}\n`);
  return 0;
}
