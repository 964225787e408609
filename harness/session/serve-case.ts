// One serve case, one way: write the file → the client requests and sleeps → the server's access-log line
// → the mutation at once → the client reads to EOF. A server exit, a missing log line or a client error are
// facts the verdict makes the case inconclusive with, never thrown away.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBack } from '../case/methods/sources.ts';
import { pwriteAll } from '../case/mutations/served.ts';
import { mutationFor, mutationUnsupported } from '../case/mutations/index.ts';
import type { Expectation, PreparedMutation } from '../case/mutations/types.ts';
import type { FsFacts, Filesystem } from '../model/fs-spec.ts';
import { resolveMutation } from '../model/mutation-spec.ts';
import { nowMs, patternA, type MutationRecord } from '../model/patterns.ts';
import { settingsLabel, type ServeExperiment } from '../model/serve-spec.ts';
import { FILE, native } from '../native.ts';
import type { ClientProcess, FetchedCase } from '../roles/client/client.ts';
import type { ServerIdentity, RunningServer } from '../roles/server/instance.ts';
import type { AccessLogEntry } from '../roles/server/types.ts';
import { CaseUnsupported, type Connection } from './run-case.ts';

export interface ServeCaseEnv {
  client: ClientProcess;
  server: RunningServer;
  docroot: string;
  fs: Pick<Filesystem, 'workDir' | 'facts'>;
  /** tmpfs: where the client's bytes go */
  workDir: string;
}

/** Everything a serve case produced, before any verdict: plain data. */
export interface ServeCaseRun {
  id: string;
  experiment: ServeExperiment;
  server: ServerIdentity & { setting: string; settings: Record<string, string>; config: string; notes: string[] };
  /** server → client (the capture reassembles this direction) */
  connection: Connection;
  request: string;
  /** the access-log line for the request, parsed, and when zcprobe saw it; null: none came */
  logged: { entry: AccessLogEntry | null; line: string; seenAt: number } | null;
  /** the mutation, applied when the line was seen (null: not applied, the case is inconclusive) */
  mutation: MutationRecord | null;
  expectation: Omit<Expectation, 'after'>;
  filesystem: FsFacts;
  client: Omit<FetchedCase, 'data'>;
  /** set when the server's main process ended during the case */
  serverExit: string | null;
  /** facts that make the case inconclusive (no log line, server exit, ...), one sentence each */
  problems: string[];
  /** the body as it was when the request arrived (I), after the mutation (M), what the client
   * read (the whole response), what the file's name holds once the client is done */
  streams: { body: Uint8Array; mutatedBody: Uint8Array; received: Buffer; fileAfter: Uint8Array | null };
  timings: { caseStartedAt: number; fileWrittenAt: number; caseEndedAt: number };
}

let counter = 0;

/** A client's case bound: generous for slow reads, never unbounded. */
function clientTimeoutMs(exp: ServeExperiment): number {
  return 15000 + exp.clientDelayMs + Math.ceil(exp.size / (10 * 1024 * 1024)) * 1000;
}

// After the client saw EOF, the server's line must come soon (it writes it when the response is
// done, which is before or right after the client's EOF).
const LOG_AFTER_EOF_MS = 2000;

function writeServed(path: string, size: number): void {
  const fd = native.open(path, FILE.O_WRONLY | FILE.O_CREAT | FILE.O_EXCL, 0o644);
  try {
    pwriteAll(fd, patternA(size), 0, size, 0);
    // Clean page cache, as for a file that was deployed a while ago (no writeback during the case).
    native.fsync(fd);
  } finally {
    native.close(fd);
  }
}

export async function runServeCase(env: ServeCaseEnv, exp: ServeExperiment): Promise<ServeCaseRun> {
  const caseStartedAt = nowMs();
  const id = `serve-${process.pid}-${++counter}`;
  const name = `zc-${process.pid}-${counter}.bin`;
  const path = join(env.docroot, name);
  const plan = resolveMutation(exp.mutation, exp.size);
  const module = mutationFor(plan.kind);
  const unsupported = mutationUnsupported(plan.kind, env.docroot);
  if (unsupported) throw new CaseUnsupported(`${unsupported} (${env.fs.facts().fs})`);
  const { after: mutatedBody, ...expectation } = module.expect(plan, exp.size);
  const server = env.server;
  const request = `GET /${name} HTTP/1.0`;
  const problems: string[] = [];
  let prepared: PreparedMutation | null = null;
  try {
    writeServed(path, exp.size);
    const fileWrittenAt = nowMs();
    prepared = module.prepare(plan, exp.size, { path, dir: env.docroot });
    server.log.mark();
    const started = env.client.start({
      id, host: server.host, port: server.port, delayMs: exp.clientDelayMs, rcvbuf: exp.rcvbuf,
      request: Buffer.from(`${request}\r\nHost: zcprobe\r\nConnection: close\r\n\r\n`).toString('base64'),
      outFile: join(env.workDir, `${id}.received`), timeoutMs: clientTimeoutMs(exp),
    });
    // The line may be late, never unbounded: the server's exit, or the client's EOF plus a bound.
    const clientDone = started.result.then(() => sleep(LOG_AFTER_EOF_MS), () => undefined);
    const stop = Promise.race([server.process.whenExited(), clientDone]);
    const seen = await server.log.waitFor((l) => l.includes(`"${request}"`), clientTimeoutMs(exp) + LOG_AFTER_EOF_MS, stop);
    let mutation: MutationRecord | null = null;
    if (seen) {
      // The point of the case: change the file the moment the server says it is done.
      const a = prepared.apply();
      mutation = { mutation: exp.mutation, startedAt: a.startedAt, mutatedAt: a.mutatedAt, steps: a.steps };
    }
    const got = await started.result;
    const serverExit = server.process.exitStatus;
    if (serverExit) problems.push(`${exp.server} ${serverExit} during the case`);
    else if (!seen)
      problems.push(`${exp.server} wrote no access-log line for "${request}" (waited ${LOG_AFTER_EOF_MS} ms past the client's EOF)`);
    const entry = seen ? server.module.parseLogLine(seen.line) : null;
    if (seen && !entry) problems.push(`the access-log line could not be parsed: ${seen.line}`);
    if (got.error) problems.push(`client: ${got.error}`);
    const local = got.local;
    const { data, ...client } = got;
    return {
      id,
      experiment: exp,
      server: {
        ...server.identity, setting: settingsLabel(exp.settings.given), settings: server.settings,
        config: server.configText, notes: server.config.notes,
      },
      connection: { src: server.host, srcPort: server.port, dst: local.address, dstPort: local.port },
      request,
      logged: seen ? { entry, line: seen.line, seenAt: seen.seenAt } : null,
      mutation,
      expectation,
      filesystem: env.fs.facts(),
      client,
      serverExit,
      problems,
      streams: { body: patternA(exp.size), mutatedBody, received: data, fileAfter: readBack(path, exp.size) },
      timings: { caseStartedAt, fileWrittenAt, caseEndedAt: nowMs() },
    };
  } finally {
    prepared?.release();
    rmSync(path, { force: true });
  }
}
