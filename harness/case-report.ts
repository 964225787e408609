// The one JSON shape of a case, as printed by `zcprobe run --json` and stored in reports.
import { release } from 'node:os';
import type { CaseRun } from './run-case.ts';
import { receivedVerdict, type Mismatch, type ReceivedVerdict } from './verdict.ts';

export interface CaseReport {
  id: string;
  method: string;
  size: number;
  safeguard: string;
  mutation: string;
  transport: string;
  family: number;
  kernel: string;
  receiverDelayMs: number;
  rcvbuf: number | null;
  sndbuf: number | null;
  pipeSize: number;
  verdict: ReceivedVerdict;
  /** why the verdict is inconclusive (safeguard timed out, receiver error, ...) */
  reasons: string[];
  received: Mismatch & { bytes: number };
  secondOutput?: Mismatch;
  send: { calls: number; shortCounts: number };
  safeguardResult: { waitedMs: number; signal: string; reached: boolean };
  zerocopy?: { expected: number; received: number; copied: number };
  connection: CaseRun['connection'];
  timings: {
    sendStartedAt: number;
    sendReturnedAt: number;
    mutatedAt: number;
    receiverAcceptedAt: number;
    receiverFirstReadAt: number | null;
    receiverDoneAt: number;
  };
}

export function toCaseReport(run: CaseRun): CaseReport {
  const e = run.experiment;
  const reasons: string[] = [];
  if (!run.safeguard.reached) reasons.push(`safeguard ${e.safeguard} did not reach its safe point: ${run.safeguard.signal}`);
  let verdict = receivedVerdict(run.received);
  // A safeguard that timed out proves nothing either way about that safeguard.
  if (reasons.length) verdict = 'inconclusive';
  return {
    id: run.id,
    method: e.method,
    size: e.size,
    safeguard: e.safeguard,
    mutation: e.mutation,
    transport: e.transport,
    family: e.family,
    kernel: release(),
    receiverDelayMs: e.receiverDelayMs,
    rcvbuf: e.rcvbuf ?? null,
    sndbuf: e.sndbuf ?? null,
    pipeSize: e.pipeSize,
    verdict,
    reasons,
    received: { bytes: run.receiver.bytes, ...run.received },
    ...(run.secondOutput ? { secondOutput: run.secondOutput } : {}),
    send: { calls: run.send.calls, shortCounts: run.send.shortCounts },
    safeguardResult: run.safeguard,
    ...(run.zerocopy ? { zerocopy: { expected: run.zerocopy.expected, received: run.zerocopy.received, copied: run.zerocopy.copied } } : {}),
    connection: run.connection,
    timings: {
      sendStartedAt: run.send.startedAt,
      sendReturnedAt: run.send.returnedAt,
      mutatedAt: run.mutation.mutatedAt,
      receiverAcceptedAt: run.receiver.acceptedAt,
      receiverFirstReadAt: run.receiver.firstReadAt,
      receiverDoneAt: run.receiver.doneAt,
    },
  };
}

/** One human line per case. */
export function formatCaseLine(r: CaseReport): string {
  const m = r.received;
  const what = `${r.method} ${r.size}B ${r.mutation} safeguard=${r.safeguard} delay=${r.receiverDelayMs}ms ${r.transport}`;
  if (r.verdict === 'clean') return `${what} → clean (${m.bytes} bytes identical)`;
  if (r.verdict === 'inconclusive') return `${what} → inconclusive: ${r.reasons.join('; ')}`;
  const pct = m.mismatchedBytes ? Math.round((100 * m.equalsMutation) / m.mismatchedBytes) : 0;
  return `${what} → ${r.verdict}: ${m.mismatchedBytes} bytes differ (offsets ${m.firstOffset}..${m.lastOffset}, ${pct}% equal the mutation, ${m.zero} zero)${m.lengthDelta ? `, length ${m.lengthDelta >= 0 ? '+' : ''}${m.lengthDelta}` : ''}`;
}
