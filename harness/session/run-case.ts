// One case, end to end, in one direction of data flow:
// source → receiver.prepare → connect → safeguard.beforeSend → send → safeguard.wait → mutation
// → receiver result. Nothing here reaches back into an earlier step, and no method or safeguard
// is named here: each brings its own hooks (methods/types.ts, safeguards/types.ts).
// Mutation by another process (mutatedBy 'other-process'): for a safeguard that holds writers
// back itself (leases) the request goes to the mutator right after the send returns, so its
// open(O_WRONLY) races the wait the way a real concurrent writer would; for any other safeguard
// it goes only after the wait, so the safeguard is never blamed for a change it never held back.
// Mutations and filesystems are modules too (harness/mutations, harness/fs): the case asks the
// mutation what the file holds afterwards (the verdict's "mutated" stream), prepares it before the
// send and applies it after the wait; source files go to the filesystem's directory.
import { join } from 'node:path';
import { receiverAcks, type Experiment } from '../model/experiment.ts';
import { methodFor } from '../case/methods/index.ts';
import { readBack, releaseSource } from '../case/methods/sources.ts';
import type { SendResult, ZerocopyCompletionSummary } from '../case/methods/types.ts';
import type { Filesystem, FsFacts } from '../model/fs-spec.ts';
import { patternA, type MutationRecord, type Source } from '../model/patterns.ts';
import { mutationFor, mutationUnsupported } from '../case/mutations/index.ts';
import { resolveMutation } from '../model/mutation-spec.ts';
import type { Expectation, MutationModule, PreparedMutation } from '../case/mutations/types.ts';
import { native, SOCK } from '../native.ts';
import type { MutatorProcess } from '../roles/mutator/client.ts';
import type { WriterRecord } from '../roles/mutator/protocol.ts';
import type { ReceivedCase } from '../roles/receiver/client.ts';
import type { ReceiverRole } from '../roles/receiver/role.ts';
import { safeguardFor } from '../case/safeguards/index.ts';
import type { SafeguardResult } from '../case/safeguards/types.ts';

export interface Connection {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

/** Everything a case produced, before any verdict: plain data. */
export interface CaseRun {
  id: string;
  experiment: Experiment;
  connection: Connection;
  send: Pick<SendResult, 'bytes' | 'calls' | 'shortCounts' | 'startedAt' | 'returnedAt' | 'fallbacks'>;
  safeguard: SafeguardResult;
  mutation: MutationRecord;
  /** what the mutation changes (the bytes it leaves are streams.mutated) */
  expectation: Omit<Expectation, 'after'>;
  /** the filesystem of the source file; null when the source is memory */
  filesystem: FsFacts | null;
  receiver: Omit<ReceivedCase, 'data'>;
  zerocopy?: ZerocopyCompletionSummary;
  /** the bytes the verdict compares; secondOutput (tee only): the second pipe's bytes, read after
   * the mutation; fileAfter: what the file holds through its name once the receiver is done (null:
   * the name is gone; absent: memory source) */
  streams: { intended: Uint8Array; mutated: Uint8Array; received: Buffer; secondOutput?: Uint8Array; fileAfter?: Uint8Array | null };
}

export interface CaseEnv {
  /** the local receiver process or a remote agent */
  receiver: ReceiverRole;
  /** where received bytes go (tmpfs) */
  workDir: string;
  /** where source files go, and the facts a case records about it */
  fs: Pick<Filesystem, 'workDir' | 'facts'>;
  /** the other process that mutates files when the experiment asks for it */
  mutator?: MutatorProcess;
  /** the transport's sender namespace (a path): the sending socket is created there */
  senderNetns?: string;
}

/** Bound on the receiver's side of one case: generous for slow reads, never unbounded. */
function receiverTimeoutMs(exp: Experiment): number {
  return 15000 + exp.receiverDelayMs + Math.ceil(exp.size / (10 * 1024 * 1024)) * 1000;
}

function openSender(exp: Experiment, host: string, port: number, netns: string | undefined): number {
  const fd = native.socket(exp.family, netns ? { netns } : undefined);
  try {
    if (exp.sndbuf !== undefined) native.setsockoptInt(fd, SOCK.SOL_SOCKET, SOCK.SO_SNDBUFFORCE, exp.sndbuf);
    native.connect(fd, host, port);
    return fd;
  } catch (e) {
    native.close(fd);
    throw e;
  }
}

/** A case this host or filesystem cannot run (e.g. FICLONE on ext4): the reason, probed. */
export class CaseUnsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CaseUnsupported';
  }
}

/** Asks the other process to open the case's file and change it. */
function askMutator(env: CaseEnv, id: string, exp: Experiment, source: Source, module: MutationModule): Promise<WriterRecord> {
  if (!env.mutator) throw new Error('mutation by another process needs a mutator (Session spawns one)');
  if (source.kind !== 'file' || module.target !== 'file') throw new Error(`another process can only change a file source through its path, not ${exp.mutation}`);
  return env.mutator.mutate({ id, path: source.path, dir: env.fs.workDir, mutation: exp.mutation, size: exp.size, firstHalf: exp.mutationRange === 'first-half' });
}

let caseCounter = 0;

export async function runCase(env: CaseEnv, exp: Experiment): Promise<CaseRun> {
  const id = `case-${process.pid}-${++caseCounter}`;
  const intended = patternA(exp.size);
  const plan = resolveMutation(exp.mutation, exp.size, exp.mutationRange === 'first-half');
  const mutationModule = mutationFor(plan.kind);
  const { after: mutated, ...expectation } = mutationModule.expect(plan, exp.size);
  const unsupported = mutationModule.target === 'file' ? mutationUnsupported(plan.kind, env.fs.workDir) : null;
  if (unsupported) throw new CaseUnsupported(`${unsupported} (${env.fs.facts().fs})`);
  const method = methodFor(exp.method);
  const guard = safeguardFor(exp.safeguard);
  const source = guard.prepareSource ? guard.prepareSource(exp, intended, env.fs.workDir) : method.prepare(exp, intended, env.fs.workDir);
  const byOther = exp.mutatedBy === 'other-process';
  let fd = -1;
  let result: Promise<ReceivedCase> | null = null;
  let writer: Promise<WriterRecord> | null = null;
  let prepared: PreparedMutation | null = null;
  try {
    ({ result } = await env.receiver.prepare({
      id,
      size: exp.size,
      delayMs: exp.receiverDelayMs,
      rcvbuf: exp.rcvbuf,
      ack: receiverAcks(exp.safeguard),
      outFile: join(env.workDir, `${id}.received`),
      timeoutMs: receiverTimeoutMs(exp),
    }));
    // The sender's own mutation is built before the send (new bytes, O_DIRECT fd, new file), so
    // applying it after the wait is one step.
    if (!byOther) prepared = mutationModule.prepare(plan, exp.size, { path: source.kind === 'file' ? source.path : '', dir: env.fs.workDir, source });
    fd = openSender(exp, env.receiver.host, env.receiver.port, env.senderNetns);
    const local = native.getsockname(fd);
    const connection = { src: local.address, srcPort: local.port, dst: env.receiver.host, dstPort: env.receiver.port };

    const held = guard.beforeSend?.(source);
    const send = guard.send ? guard.send(fd, source, exp, method) : method.send(fd, source, exp);
    if (byOther && guard.holdsBackWriters) writer = askMutator(env, id, exp, source, mutationModule);
    let safeguard = guard.wait({ fd, exp, send, lease: held });
    if (byOther && !writer) writer = askMutator(env, id, exp, source, mutationModule);
    let mutation: MutationRecord;
    if (writer) {
      // The other process's clock: mutatedAt is when its pwrite/ftruncate returned.
      const w = await writer;
      writer = null;
      if (w.error) throw new Error(`mutator: ${w.error}`);
      mutation = { mutation: exp.mutation, startedAt: w.openStartedAt, mutatedAt: w.mutatedAt, steps: w.steps };
      safeguard = { ...safeguard, writer: w };
    } else {
      const a = prepared!.apply();
      mutation = { mutation: exp.mutation, startedAt: a.startedAt, mutatedAt: a.mutatedAt, steps: a.steps };
    }
    const secondOutputBytes = send.readSecondOutput?.();
    native.shutdown(fd, 1);

    const got = await result;
    result = null;
    const fileAfter = source.kind === 'file' ? readBack(source.path, exp.size) : undefined;
    // Completions still pending are collected for the record (COPIED flags), bounded.
    const zerocopy = send.zerocopy?.waitAll(2000);
    const { data, ...receiver } = got;
    // A receiver error is kept, not thrown: the verdict makes the case inconclusive with it.
    return {
      id,
      experiment: exp,
      connection,
      send: {
        bytes: send.bytes, calls: send.calls, shortCounts: send.shortCounts, startedAt: send.startedAt, returnedAt: send.returnedAt,
        ...(send.fallbacks?.length ? { fallbacks: send.fallbacks } : {}),
      },
      safeguard,
      mutation,
      expectation,
      filesystem: source.kind === 'file' ? env.fs.facts() : null,
      receiver,
      zerocopy,
      streams: {
        intended, mutated, received: data,
        ...(secondOutputBytes ? { secondOutput: secondOutputBytes } : {}),
        ...(fileAfter !== undefined ? { fileAfter } : {}),
      },
    };
  } finally {
    if (result) {
      // The case failed before the receiver finished: let it see EOF (connecting first if we
      // never did) so it reports and is ready for the next case.
      if (fd < 0) {
        try {
          fd = openSender(exp, env.receiver.host, env.receiver.port, env.senderNetns);
        } catch {
          /* the receiver's own timeout ends its case */
        }
      }
      if (fd >= 0) native.close(fd);
      fd = -1;
      await result.catch(() => undefined);
    }
    if (fd >= 0) native.close(fd);
    method.release?.();
    prepared?.release();
    // Closing the source drops any lease, so a writer still held back goes ahead and answers
    // (or fails on the removed file) before the next case uses the mutator.
    releaseSource(source);
    await writer?.catch(() => undefined);
  }
}
