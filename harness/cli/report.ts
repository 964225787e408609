// zcprobe report (npm start): runs the evidence suite and writes captures/<run-id>/report.{html,json,md}.
import { join } from 'node:path';
import { parseSize } from '../model/experiment.ts';
import { diskUsage, formatBytes } from '../host/disk.ts';
import { listRunDirs } from '../host/prune.ts';
import { writeReport } from '../report/write.ts';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { flagValue, listFlag, UsageError, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';
import { runSuite, suiteFlags } from './suite.ts';
import { SERVERS, type ServerName } from '../model/serve-spec.ts';

/** --server, repeatable; "none" leaves the real-servers section out. */
function serversFlag(given: string[] | undefined): ServerName[] {
  if (given?.includes('none')) {
    if (given.length > 1) throw new UsageError('--server none cannot be combined with servers');
    return [];
  }
  return listFlag({ server: given }, 'server', SERVERS);
}

const SUITE = suiteFlags(2, {
  'cost-total': { type: 'string', value: '<size>', help: 'bytes per bench run for the cost chart; 0 skips it (default 256MiB)' },
  out: { type: 'string', value: '<dir>', help: 'output directory (default captures/<run-id>)' },
  server: {
    type: 'string', multiple: true, value: '<name>',
    help: `servers of the "Real servers" section: ${SERVERS.join(', ')}, or none; repeatable (default: all; a missing one is skipped)`,
  },
});

export const command = defineCommand({
  name: 'report',
  usage: '[flags]   (also: npm start)',
  options: SUITE.options,
  run: report,
});

async function report(flags: FlagValues<typeof SUITE.options>): Promise<number> {
  const scope = SUITE.scope(flags);
  const costTotal = flagValue(flags, 'cost-total', parseSize) ?? 256 << 20;
  const runId = newRunId();
  const runDir = flags.out ?? join(CAPTURES_DIR, runId);
  const servers = serversFlag(flags.server);
  const report = await runSuite({ ...scope, runDir, runId, costTotal, servers }, `zcprobe evidence suite → ${runDir}`);
  const paths = writeReport(runDir, report);
  const counts = new Map<string, number>();
  for (const c of report.cells) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  process.stdout.write(`${report.cells.length} cells: ${[...counts].map(([v, n]) => `${n} ${v}`).join(', ')}; ${report.counterexamples.length} counterexamples; ${(report.durationMs / 1000).toFixed(0)} s\n`);
  process.stdout.write(`report: ${paths.html}\n        ${paths.md}\n        ${paths.json}\n`);
  const all = listRunDirs(CAPTURES_DIR);
  const total = all.reduce((n, r) => n + r.bytes, 0);
  process.stdout.write(`disk:   ${formatBytes(diskUsage(runDir))} in ${runDir}; ${CAPTURES_DIR} holds ${all.length} runs, ${formatBytes(total)} (npx zcprobe prune --keep N frees older ones)\n`);
  return 0;
}
