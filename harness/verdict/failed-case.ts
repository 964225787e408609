// A case that could not run (its session did not open, or the case threw) as a CaseReport: verdict
// inconclusive, the error as its reason, nothing observed. The matrix keeps it in its cell so the
// report says why the cell is not clean, and the run goes on.
import { release } from 'node:os';
import { nothingArrived } from './byte-classes.ts';
import type { CaseReport } from './case-report.ts';
import { FILE_METHODS, type Experiment } from '../model/experiment.ts';

let failedCounter = 0;

export function failedCaseReport(exp: Experiment, error: unknown, stage: string): CaseReport {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const nothing = { mismatchedBytes: 0, firstOffset: null, lastOffset: null, equalsMutation: 0, zero: 0, other: 0 };
  return {
    id: `failed-${process.pid}-${++failedCounter}`,
    method: exp.method,
    size: exp.size,
    safeguard: exp.safeguard,
    mutation: exp.mutation,
    mutationRange: exp.mutationRange,
    transport: exp.transport,
    family: exp.family,
    kernel: release(),
    receiverDelayMs: exp.receiverDelayMs,
    rcvbuf: exp.rcvbuf ?? null,
    sndbuf: exp.sndbuf ?? null,
    pipeSize: exp.pipeSize,
    mutationChanges: { changes: [] },
    mutationSteps: [],
    fs: FILE_METHODS.includes(exp.method) ? exp.fs : null,
    filesystem: null,
    verdict: 'inconclusive',
    reasons: [`${stage} failed: ${message}`],
    // nothing was received: every intended byte is missing
    received: { ...nothing, lengthDelta: -exp.size, bytes: 0, classes: nothingArrived(exp.size) },
    wire: { capture: 'off' },
    send: { calls: 0, shortCounts: 0 },
    safeguardResult: { waitedMs: 0, signal: `${stage} failed`, reached: false },
    connection: { src: '', srcPort: 0, dst: '', dstPort: 0 },
    timings: {
      sendStartedAt: 0,
      sendReturnedAt: 0,
      mutatedAt: 0,
      firstMutatedPacketAt: null,
      receiverAcceptedAt: 0,
      receiverFirstReadAt: null,
      receiverDoneAt: 0,
    },
  };
}
