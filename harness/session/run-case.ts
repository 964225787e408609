// One case as phases in one direction: prepare (source, receiver, sender's mutation, connection) → send → wait
// (the safeguard) → mutate → collect; release() undoes whatever a failed phase left open. No method, safeguard or
// mutation is named here: each brings its own hooks (case/methods, case/safeguards, case/mutations).
import { join } from 'node:path';
import { receiverAcks, type Experiment } from '../model/experiment.ts';
import { methodFor } from '../case/methods/index.ts';
import { readBack, releaseSource } from '../case/methods/sources.ts';
import type { SendMethod, SendResult, ZerocopyCompletionSummary } from '../case/methods/types.ts';
import type { Filesystem, FsFacts } from '../model/fs-spec.ts';
import { patternA, type MutationRecord, type Source } from '../model/patterns.ts';
import { mutationFor, mutationUnsupported } from '../case/mutations/index.ts';
import { resolveMutation, type ResolvedMutation } from '../model/mutation-spec.ts';
import type { Expectation, MutationModule, PreparedMutation } from '../case/mutations/types.ts';
import { native, SOCK } from '../native.ts';
import type { MutatorProcess } from '../roles/mutator/client.ts';
import type { WriterRecord } from '../roles/mutator/protocol.ts';
import type { ReceivedCase } from '../roles/receiver/client.ts';
import type { ReceiverRole } from '../roles/receiver/role.ts';
import { safeguardFor } from '../case/safeguards/index.ts';
import type { LeaseHandle, SafeguardModule, SafeguardResult } from '../case/safeguards/types.ts';

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
function askMutator(env: CaseEnv, c: CasePlan): Promise<WriterRecord> {
  const { id, exp, source, mutationModule } = c;
  if (!env.mutator) throw new Error('mutation by another process needs a mutator (Session spawns one)');
  if (source.kind !== 'file' || mutationModule.target !== 'file') {
    throw new Error(`another process can only change a file source through its path, not ${exp.mutation}`);
  }
  const firstHalf = exp.mutationRange === 'first-half';
  return env.mutator.mutate({ id, path: source.path, dir: env.fs.workDir, mutation: exp.mutation, size: exp.size, firstHalf });
}

/** What one case is, decided before anything opens; its source is the one thing made so far. */
interface CasePlan {
  id: string;
  exp: Experiment;
  intended: Uint8Array;
  /** what the source holds after the mutation (the verdict's "mutated" stream) */
  mutated: Uint8Array;
  expectation: Omit<Expectation, 'after'>;
  mutationPlan: ResolvedMutation;
  mutationModule: MutationModule;
  method: SendMethod;
  guard: SafeguardModule;
  source: Source;
  /** mutatedBy 'other-process': the mutator changes the file, not the sender */
  byOther: boolean;
}

/** What the case holds open, filled in by the phases as they open it, so release() can undo
 * whatever a failed phase left. */
interface Held {
  fd: number;
  /** the receiver's result, until collect has it */
  result: Promise<ReceivedCase> | null;
  /** the mutator's answer, until mutate has it */
  writer: Promise<WriterRecord> | null;
  /** the sender's own mutation, built before the send */
  prepared: PreparedMutation | null;
}

interface Sent {
  result: SendResult;
  /** what safeguard.beforeSend took (leases) */
  lease: LeaseHandle | undefined;
}

interface Changed {
  mutation: MutationRecord;
  /** the wait's result, with the writer's record when another process made the change */
  safeguard: SafeguardResult;
}

export async function runCase(env: CaseEnv, exp: Experiment): Promise<CaseRun> {
  const c = planCase(env, exp);
  const held: Held = { fd: -1, result: null, writer: null, prepared: null };
  try {
    const connection = await prepare(env, c, held);
    const sent = send(env, c, held);
    const waited = wait(c, held, sent);
    const changed = await mutate(env, c, held, waited);
    return await collect(env, c, held, connection, sent, changed);
  } finally {
    await release(env, c, held);
  }
}

let caseCounter = 0;

/** Prepare, part 1: the patterns and modules of the case, refused at once when the filesystem cannot
 * make its mutation (CaseUnsupported), then its source (a file in the filesystem's directory, or memory). */
function planCase(env: CaseEnv, exp: Experiment): CasePlan {
  const id = `case-${process.pid}-${++caseCounter}`;
  const intended = patternA(exp.size);
  const mutationPlan = resolveMutation(exp.mutation, exp.size, exp.mutationRange === 'first-half');
  const mutationModule = mutationFor(mutationPlan.kind);
  const { after: mutated, ...expectation } = mutationModule.expect(mutationPlan, exp.size);
  const unsupported = mutationModule.target === 'file' ? mutationUnsupported(mutationPlan.kind, env.fs.workDir) : null;
  if (unsupported) throw new CaseUnsupported(`${unsupported} (${env.fs.facts().fs})`);
  const method = methodFor(exp.method);
  const guard = safeguardFor(exp.safeguard);
  const source = guard.prepareSource ? guard.prepareSource(exp, intended, env.fs.workDir) : method.prepare(exp, intended, env.fs.workDir);
  const byOther = exp.mutatedBy === 'other-process';
  return { id, exp, intended, mutated, expectation, mutationPlan, mutationModule, method, guard, source, byOther };
}

/** Prepare, part 2: the receiver waits for this case, the sender's own mutation is built, the sender connects. */
async function prepare(env: CaseEnv, c: CasePlan, held: Held): Promise<Connection> {
  const { id, exp, source } = c;
  held.result = (await env.receiver.prepare({
    id,
    size: exp.size,
    delayMs: exp.receiverDelayMs,
    rcvbuf: exp.rcvbuf,
    ack: receiverAcks(exp.safeguard),
    outFile: join(env.workDir, `${id}.received`),
    timeoutMs: receiverTimeoutMs(exp),
  })).result;
  // The sender's own mutation is built before the send (new bytes, O_DIRECT fd, new file), so
  // applying it after the wait is one step.
  if (!c.byOther) {
    const target = { path: source.kind === 'file' ? source.path : '', dir: env.fs.workDir, source };
    held.prepared = c.mutationModule.prepare(c.mutationPlan, exp.size, target);
  }
  held.fd = openSender(exp, env.receiver.host, env.receiver.port, env.senderNetns);
  const local = native.getsockname(held.fd);
  return { src: local.address, srcPort: local.port, dst: env.receiver.host, dstPort: env.receiver.port };
}

function send(env: CaseEnv, c: CasePlan, held: Held): Sent {
  const { exp, guard, method, source } = c;
  const lease = guard.beforeSend?.(source);
  const result = guard.send ? guard.send(held.fd, source, exp, method) : method.send(held.fd, source, exp);
  // Leases hold writers back themselves: the mutator is asked as soon as the send returns, so its
  // open(O_WRONLY) races the wait as a real writer would. Other safeguards meet the writer only
  // after their wait (mutate), so none is blamed for a change it never held back.
  if (c.byOther && guard.holdsBackWriters) held.writer = askMutator(env, c);
  return { result, lease };
}

function wait(c: CasePlan, held: Held, sent: Sent): SafeguardResult {
  return c.guard.wait({ fd: held.fd, exp: c.exp, send: sent.result, lease: sent.lease });
}

/** The change: by the other process (asked now, unless the send asked it already) or by the sender's prepared mutation. */
async function mutate(env: CaseEnv, c: CasePlan, held: Held, waited: SafeguardResult): Promise<Changed> {
  if (c.byOther && !held.writer) held.writer = askMutator(env, c);
  if (held.writer) {
    // The other process's clock: mutatedAt is when its pwrite/ftruncate returned.
    const w = await held.writer;
    held.writer = null;
    if (w.error) throw new Error(`mutator: ${w.error}`);
    return {
      mutation: { mutation: c.exp.mutation, startedAt: w.openStartedAt, mutatedAt: w.mutatedAt, steps: w.steps },
      safeguard: { ...waited, writer: w },
    };
  }
  const a = held.prepared!.apply();
  return { mutation: { mutation: c.exp.mutation, startedAt: a.startedAt, mutatedAt: a.mutatedAt, steps: a.steps }, safeguard: waited };
}

/** What the case produced, as plain data: the tee's second output and the file are read after the mutation,
 * the receiver's bytes after our FIN. */
async function collect(env: CaseEnv, c: CasePlan, held: Held, connection: Connection, sent: Sent, done: Changed): Promise<CaseRun> {
  const { exp, intended, mutated, source } = c;
  const send = sent.result;
  const secondOutputBytes = send.readSecondOutput?.();
  native.shutdown(held.fd, 1);
  const got = await held.result!;
  held.result = null;
  const fileAfter = source.kind === 'file' ? readBack(source.path, exp.size) : undefined;
  // Completions still pending are collected for the record (COPIED flags), bounded.
  const zerocopy = send.zerocopy?.waitAll(2000);
  const { data, ...receiver } = got;
  // A receiver error is kept, not thrown: the verdict makes the case inconclusive with it.
  return {
    id: c.id,
    experiment: exp,
    connection,
    send: {
      bytes: send.bytes, calls: send.calls, shortCounts: send.shortCounts, startedAt: send.startedAt, returnedAt: send.returnedAt,
      ...(send.fallbacks?.length ? { fallbacks: send.fallbacks } : {}),
    },
    safeguard: done.safeguard,
    mutation: done.mutation,
    expectation: c.expectation,
    filesystem: source.kind === 'file' ? env.fs.facts() : null,
    receiver,
    zerocopy,
    streams: {
      intended, mutated, received: data,
      ...(secondOutputBytes ? { secondOutput: secondOutputBytes } : {}),
      ...(fileAfter !== undefined ? { fileAfter } : {}),
    },
  };
}

/** Undoes what the phases opened, whichever one threw, and leaves the receiver and mutator ready for the next case. */
async function release(env: CaseEnv, c: CasePlan, held: Held): Promise<void> {
  if (held.result) {
    // The case failed before the receiver finished: let it see EOF (connecting first if we
    // never did) so it reports and is ready for the next case.
    if (held.fd < 0) {
      try {
        held.fd = openSender(c.exp, env.receiver.host, env.receiver.port, env.senderNetns);
      } catch {
        /* the receiver's own timeout ends its case */
      }
    }
    if (held.fd >= 0) native.close(held.fd);
    held.fd = -1;
    await held.result.catch(() => undefined);
  }
  if (held.fd >= 0) native.close(held.fd);
  c.method.release?.();
  held.prepared?.release();
  // Closing the source drops any lease, so a writer still held back goes ahead and answers
  // (or fails on the removed file) before the next case uses the mutator.
  releaseSource(c.source);
  await held.writer?.catch(() => undefined);
}
