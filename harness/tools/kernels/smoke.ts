// The kernels smoke: a few universal-claim cells and observations on loopback, one repeat of the stress cases, short enough for CI
// under TCG; writes a normal report.json for `zcprobe compare` (docs/kernels.md).
//   node --import=tsx harness/tools/kernels/smoke.ts OUTDIR
import type { Method, Safeguard } from '../../model/experiment.ts';
import { runEvidenceSuite } from '../../suites/evidence-suite.ts';
import { writeReport } from '../../report/write.ts';
import { newRunId } from '../../session/session.ts';

export const SMOKE_METHODS: Method[] = ['write', 'sendfile', 'vmsplice', 'msg-zerocopy'];
export const SMOKE_SAFEGUARDS: Safeguard[] = ['none', 'app-ack', 'zc-completion', 'siocoutq'];

async function main(outDir: string): Promise<number> {
  const report = await runEvidenceSuite({
    runDir: outDir, runId: newRunId(), repeats: 1, transports: ['loopback'], methods: SMOKE_METHODS, safeguards: SMOKE_SAFEGUARDS, costTotal: 0,
    onProgress: (p) => process.stderr.write(`${p.done}/${p.total} ${p.cell}: ${p.lastVerdict ?? ''}\n`),
  });
  const paths = writeReport(outDir, report);
  process.stdout.write(`${report.cells.length} cells in ${(report.durationMs / 1000).toFixed(0)} s: ${paths.json}\n`);
  return 0;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: node --import=tsx harness/tools/kernels/smoke.ts OUTDIR\n');
    process.exitCode = 2;
  } else process.exitCode = await main(out);
}
