// What every send method provides. A method only sends (never waits, mutates or judges); short counts are looped over and counted
// here, in one loop per method (MessageSender.send) that a case (one message) and the bench (many messages) share.
import type { Experiment } from '../../model/experiment.ts';
import type { Source } from '../../model/patterns.ts';

export interface SendResult {
  bytes: number;
  /** syscalls that moved data to the socket (or pipe, for vmsplice) */
  calls: number;
  /** calls that returned less than asked */
  shortCounts: number;
  startedAt: number;
  returnedAt: number;
  /** what this kernel refused and what was sent instead (an older kernel that does not know a
   * flag, a pipe size above fs.pipe-max-size); absent when nothing was refused */
  fallbacks?: string[];
  /** zero-copy methods: how many sends await a completion, and how to collect them */
  zerocopy?: ZerocopyPending;
  /** tee: the second output (the other pipe), read after the mutation */
  readSecondOutput?: () => Uint8Array;
}

export interface ZerocopyCompletionSummary {
  /** completions expected: one per zero-copy send the kernel accepted */
  expected: number;
  received: number;
  copied: number;
  /** false when the kernel could not say whether it copied (io_uring without
   * IORING_SEND_ZC_REPORT_USAGE): `copied` then counts nothing */
  copiedKnown: boolean;
  /** epoch ms when the last expected completion was seen, or null */
  completeAt: number | null;
}

export interface ZerocopyPending {
  /** waits (bounded) until every send has completed; returns what was seen so far */
  waitAll(timeoutMs: number): ZerocopyCompletionSummary;
  /** what has been seen so far without waiting */
  summary(): ZerocopyCompletionSummary;
}

/** Bounds on the waits inside a send loop: a stuck kernel path ends with an error, not a hang. */
export interface SendLimits {
  /** io_uring: bound on one SEND_ZC result CQE */
  resultTimeoutMs: number;
  /** MSG_ZEROCOPY: how long send() may keep failing with ENOBUFS (optmem full of unread
   * completions) while the completions are being drained */
  enobufsTimeoutMs: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = { resultTimeoutMs: 30_000, enobufsTimeoutMs: 5_000 };

/** A method opened on one connected socket. What it keeps across messages (pipes, an io_uring
 * ring, the completion count) is opened once; send() sends the whole source once. */
export interface MessageSender {
  send(): SendResult;
  /** zero-copy methods: the completions of every message sent so far */
  zerocopy?: ZerocopyPending;
  /** closes what open() opened (not the socket, not the source) */
  close(): void;
}

export interface SendMethod {
  /** creates the source holding `intended` (user memory or a file) */
  prepare(exp: Experiment, intended: Uint8Array, workDir: string): Source;
  /** opens the method on a connected socket, for any number of messages (the bench) */
  open(fd: number, source: Source, exp: Experiment, limits?: SendLimits): MessageSender;
  /** one message on a fresh sender (a case); release() closes that sender */
  send(fd: number, source: Source, exp: Experiment): SendResult;
  release(): void;
}
