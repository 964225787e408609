// What every send method provides. A method only sends: it never waits for safety, mutates or
// judges. Short counts are looped over here (in TS), and counted.
import type { Experiment } from '../experiment.ts';
import type { Source } from '../mutation.ts';

export interface SendResult {
  bytes: number;
  /** syscalls that moved data to the socket (or pipe, for vmsplice) */
  calls: number;
  /** calls that returned less than asked */
  shortCounts: number;
  startedAt: number;
  returnedAt: number;
  /** zero-copy methods: how many sends await a completion, and how to collect them */
  zerocopy?: ZerocopyPending;
  /** tee: the second output (the other pipe), read after the mutation */
  readSecondOutput?: () => Uint8Array;
}

export interface ZerocopyCompletionSummary {
  /** completions expected: one per zero-copy send */
  expected: number;
  received: number;
  copied: number;
  /** epoch ms when the last expected completion was seen, or null */
  completeAt: number | null;
}

export interface ZerocopyPending {
  /** waits (bounded) until every send has completed; returns what was seen so far */
  waitAll(timeoutMs: number): ZerocopyCompletionSummary;
  /** what has been seen so far without waiting */
  summary(): ZerocopyCompletionSummary;
  release(): void;
}

export interface SendMethod {
  /** creates the source holding `intended` (user memory or a file) */
  prepare(exp: Experiment, intended: Uint8Array, workDir: string): Source;
  send(fd: number, source: Source, exp: Experiment): SendResult;
  /** closes pipes/rings the method opened for this case */
  release?(): void;
}
