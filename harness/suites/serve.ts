// Runs serve cases: one session per transport × family × filesystem, cases ordered so each server
// setting starts once, each case judged and, when not clean, written as evidence under the run directory.
import { join } from 'node:path';
import { serveEvidence, type ServeCaseRecord } from '../evidence/serve-evidence.ts';
import { settingsKey, type ServeExperiment } from '../model/serve-spec.ts';
import { ServerStartError } from '../roles/server/process.ts';
import { serverUnavailable } from '../roles/server/index.ts';
import { CaseUnsupported } from '../session/run-case.ts';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { ServeSession } from '../session/serve-session.ts';
import { toServeCaseReport } from '../verdict/serve-report.ts';
import { nowMs } from '../model/patterns.ts';

export type ServeOutcome =
  | { kind: 'case'; record: ServeCaseRecord }
  /** the host or filesystem cannot do it (server not installed, FICLONE on ext4): the probed reason */
  | { kind: 'skipped'; exp: ServeExperiment; reason: string };

export interface ServeRunOptions {
  experiments: ServeExperiment[];
  /** cases per experiment */
  repeat: number;
  /** where evidence goes (default captures/<run-id>) */
  runDir?: string;
  /** each outcome as it comes (the CLI prints it) */
  onOutcome?: (o: ServeOutcome) => void;
  /** a server that fails to start: rethrown (the CLI exits 1 with its log tail), or recorded as skipped */
  startFailure?: 'throw' | 'skip';
}

const groupKey = (e: ServeExperiment) => `${e.transport}/${e.family}/${e.fs}`;

export async function runServe(o: ServeRunOptions): Promise<ServeOutcome[]> {
  const runDir = o.runDir ?? join(CAPTURES_DIR, newRunId());
  const out: ServeOutcome[] = [];
  const emit = (x: ServeOutcome) => {
    out.push(x);
    o.onOutcome?.(x);
  };
  const groups = new Map<string, ServeExperiment[]>();
  for (const e of o.experiments) {
    const why = serverUnavailable(e.server);
    if (why) emit({ kind: 'skipped', exp: e, reason: why });
    else groups.set(groupKey(e), [...(groups.get(groupKey(e)) ?? []), e]);
  }
  for (const exps of groups.values()) {
    // Same server and setting next to each other: one start each.
    const key = (e: ServeExperiment) => `${e.server} ${settingsKey(e.settings.resolved)}`;
    const ordered = [...exps].sort((a, b) => key(a).localeCompare(key(b)));
    const first = ordered[0]!;
    const session = await ServeSession.open({ transport: first.transport, family: first.family, fs: first.fs });
    try {
      const failed = new Map<string, string>();
      for (const exp of ordered) {
        const key = `${exp.server} ${settingsKey(exp.settings.resolved)}`;
        if (failed.has(key)) {
          emit({ kind: 'skipped', exp, reason: failed.get(key)! });
          continue;
        }
        for (let i = 0; i < o.repeat; i++) {
          try {
            const observed = await session.run(exp);
            const record = serveEvidence(runDir, toServeCaseReport(observed), observed);
            // The harness's cost: from the request to the written judgement, beyond the client's delay.
            record.harnessMs = Math.round(nowMs() - observed.run.timings.caseStartedAt - exp.clientDelayMs);
            emit({ kind: 'case', record });
          } catch (e) {
            if (e instanceof CaseUnsupported) {
              emit({ kind: 'skipped', exp, reason: e.reason });
              break;
            }
            if (e instanceof ServerStartError && o.startFailure === 'skip') {
              failed.set(key, `${exp.server} did not start: ${e.message.split('\n')[0]}`);
              emit({ kind: 'skipped', exp, reason: failed.get(key)! });
              break;
            }
            throw e;
          }
        }
      }
    } finally {
      await session.close();
    }
  }
  return out;
}
