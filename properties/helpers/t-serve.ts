// One serve session per property file (the client spawned first), closed after the last test; cases
// queue (they share the client and the server port) and are judged, with evidence, as zcprobe serve does.
import type { TestFn } from 'ava';
import { serveEvidence, type ServeCaseRecord } from '../../harness/evidence/serve-evidence.ts';
import { makeServeExperiment, type ServePartial } from '../../harness/model/serve-spec.ts';
import { CAPTURES_DIR, newRunId } from '../../harness/session/session.ts';
import { ServeSession, type ServeSessionOptions } from '../../harness/session/serve-session.ts';
import { toServeCaseReport } from '../../harness/verdict/serve-report.ts';
import { join } from 'node:path';

export interface ServeHandle {
  run(partial: ServePartial): Promise<ServeCaseRecord>;
  readonly runDir: string;
}

export function useServeSession(
  test: TestFn,
  options: ServeSessionOptions = { transport: 'loopback', family: 4, fs: 'tmpfs' },
): ServeHandle {
  let session: ServeSession | null = null;
  const runDir = join(CAPTURES_DIR, newRunId());
  test.before(async () => {
    session = await ServeSession.open(options);
  });
  test.after.always(async () => {
    await session?.close();
  });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    runDir,
    run(partial) {
      const next = queue.then(async () => {
        if (!session) throw new Error('serve session not open (test.before failed?)');
        const o = await session.run(makeServeExperiment({
          transport: options.transport,
          family: options.family,
          fs: options.fs,
          ...partial,
        }));
        return serveEvidence(runDir, toServeCaseReport(o), o);
      });
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
