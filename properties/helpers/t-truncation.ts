// Shared by sendfile and splice: truncate the source file to 0 right after the send returns and
// record, over several sizes and delays, what the receiver and the wire got. This is an
// observation, not a pass/fail claim: the test asserts only that each case was conclusive and
// that the classification adds up, and prints the table.
import type { ExecutionContext } from 'ava';
import { CORRUPTED } from '../../harness/model/baselines.ts';
import type { Method } from '../../harness/model/experiment.ts';
import { isCorrupted, type Verdict } from '../../harness/verdict/verdict.ts';
import { observe } from './t-observe.ts';
import type { SessionHandle } from './t-session.ts';

export async function recordTruncation(t: ExecutionContext, session: SessionHandle, method: Method): Promise<void> {
  const rows: string[] = [];
  const verdicts = new Map<string, number>();
  for (const size of [4096, 65536, 1 << 20]) {
    for (const receiverDelayMs of [0, 50]) {
      const r = await session.run({ method, size, receiverDelayMs, mutation: 'ftruncate' });
      t.not(r.verdict, 'inconclusive', r.reasons.join('; '));
      verdicts.set(r.verdict, (verdicts.get(r.verdict) ?? 0) + 1);
      const m = r.received;
      t.is(m.equalsMutation + m.zero + m.other, m.mismatchedBytes);
      const wire = r.wire.capture === 'captured' ? `wire ${r.wire.bytes} B, ${r.wire.mismatchedBytes} differ (${r.wire.equalsMutation + r.wire.zero} zero)` : 'no capture';
      rows.push(`${String(size).padStart(8)} B delay ${String(receiverDelayMs).padStart(3)} ms → ${r.verdict}: received ${m.bytes} B, ${m.mismatchedBytes} differ (${m.equalsMutation + m.zero} zero, ${m.other} other); ${wire}`);
    }
  }
  t.log(`${method} + ftruncate(0) right after return:\n  ${rows.join('\n  ')}`);
  const tally = [...verdicts].sort(([a], [b]) => a.localeCompare(b)).map(([v, n]) => `${v} ${n}/${rows.length}`).join(', ');
  // Every case was asserted conclusive above: the rate is corrupted cases of all of them.
  const seen = [...verdicts].filter(([v]) => isCorrupted(v as Verdict)).reduce((a, [, n]) => a + n, 0);
  const statement = `what arrives when the file is truncated to 0 right after ${method}() returns`;
  observe(t, { id: `${method}-ftruncate`, statement, event: CORRUPTED, seen, runs: rows.length, transport: 'loopback', detail: tally });
}
