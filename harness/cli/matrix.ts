// zcprobe matrix: runs the method × safeguard × transport matrix (no cost bench, no HTML) and
// prints its cells as JSON — the data the report is made of.
import { join } from 'node:path';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { defineCommand } from './command.ts';
import { runSuite, suiteFlags } from './suite.ts';

const SUITE = suiteFlags(1, {});

export const command = defineCommand({
  name: 'matrix',
  usage: '[flags]   (JSON on stdout, progress on stderr)',
  options: SUITE.options,
  async run(flags) {
    const scope = SUITE.scope(flags);
    const runId = newRunId();
    const report = await runSuite({ ...scope, runDir: join(CAPTURES_DIR, runId), runId, costTotal: 0 });
    process.stdout.write(JSON.stringify({ runId, kernel: report.host.kernel, cells: report.cells, filesystems: report.filesystems }, null, 2) + '\n');
    return 0;
  },
});
