// Shared fixtures for property files: one session (receiver process) per test file, opened
// before any experiment buffer exists and closed after the last test, also on failure.
import type { ExecutionContext, TestFn } from 'ava';
import { familyOf, remoteFromEnv } from '../../harness/roles/agent/remote-transport.ts';
import type { CaseReport } from '../../harness/verdict/case-report.ts';
import { FILE_METHODS, makeExperiment, type Experiment } from '../../harness/model/experiment.ts';
import { Session, type SessionOptions } from '../../harness/session/session.ts';
import { judgeCase } from '../../harness/evidence/judge.ts';

export interface SessionHandle {
  run(partial: Partial<Experiment> & Pick<Experiment, 'method' | 'size'>): Promise<CaseReport>;
  /** cases and bytes run so far in this file, for "N cases, B bytes covered" statements */
  readonly stats: { cases: number; bytes: number; startedAt: number };
}

export function useSession(
  test: TestFn,
  requested: SessionOptions = { transport: 'loopback', family: 4 },
  /** checks to run once the session is closed (ava may run separate after-hooks concurrently) */
  afterClose?: (t: ExecutionContext) => void,
): SessionHandle {
  // ZCPROBE_REMOTE (+ ZCPROBE_TOKEN_FILE): every suite's cases go to that agent instead.
  const remote = remoteFromEnv();
  const options: SessionOptions = remote ? { ...requested, transport: 'remote', family: familyOf(remote), remote, rate: undefined } : requested;
  let session: Session | null = null;
  const stats = { cases: 0, bytes: 0, startedAt: 0 };
  test.before(async () => {
    session = await Session.open(options);
    stats.startedAt = performance.now();
  });
  test.after.always(async (t) => {
    await session?.close();
    afterClose?.(t);
  });
  // ava runs a file's tests concurrently; cases share one receiver and must not overlap (and
  // overlapping cases would also disturb each other's timing), so they queue here.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    stats,
    run(partial) {
      const next = queue.then(async () => {
        if (!session) throw new Error('session not open (test.before failed?)');
        // File methods put their source on the session's filesystem (buffer methods have none).
        const fs = options.fs && FILE_METHODS.includes(partial.method) ? { fs: options.fs } : {};
        const exp = makeExperiment({ transport: options.transport, family: options.family, ...fs, ...partial });
        const report = await judgeCase(session, exp);
        stats.cases++;
        stats.bytes += exp.size;
        return report;
      });
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/** "37 cases, 112.4 MiB, 21.3 cases/s" */
export function coverage(stats: SessionHandle['stats']): string {
  const secs = (performance.now() - stats.startedAt) / 1000;
  return `${stats.cases} cases, ${(stats.bytes / 1048576).toFixed(1)} MiB, ${(stats.cases / secs).toFixed(1)} cases/s`;
}

/** fast-check seed: FC_SEED from the environment to replay a run, else a fresh one (printed). */
export function seedFromEnv(): number {
  const s = process.env.FC_SEED;
  return s ? Number(s) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
}
