// Completion bookkeeping shared by the MSG_ZEROCOPY and io_uring SEND_ZC property files: how many
// completions the cases expected, received and saw flagged COPIED.
import type { CaseReport } from '../../harness/verdict/case-report.ts';

export function completionTotals(cases: CaseReport[]): { expected: number; received: number; copied: number; line: string } {
  const zc = cases.flatMap((c) => (c.zerocopy ? [c.zerocopy] : []));
  const expected = zc.reduce((a, z) => a + z.expected, 0);
  const received = zc.reduce((a, z) => a + z.received, 0);
  const copied = zc.reduce((a, z) => a + z.copied, 0);
  const pct = ((100 * copied) / Math.max(1, received)).toFixed(0);
  return { expected, received, copied, line: `${received}/${expected} received, ${copied} COPIED (${pct}%)` };
}
