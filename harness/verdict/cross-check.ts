// Two captures of one connection: what left the sender and what arrived at the agent. A byte that left as I and arrived as B is
// the device reading late, so the arrival is W; any other difference means the path changed bytes: an integrity problem.
import type { ReassembledStream } from '../capture/reassembly.ts';

export interface CaptureComparison {
  /** offsets [0, compared) were present in both captures */
  compared: number;
  /** bytes I at the sender's tap, the mutation on arrival */
  lateRead: number;
  firstLateRead: number | null;
  /** bytes changed in a way no late read explains */
  unexplained: number;
  firstUnexplained: number | null;
}

export function compareCaptures(
  departed: ReassembledStream, arrived: ReassembledStream, intended: Uint8Array, mutated: Uint8Array,
): CaptureComparison {
  const n = Math.min(departed.length, arrived.length);
  const out: CaptureComparison = { compared: n, lateRead: 0, firstLateRead: null, unexplained: 0, firstUnexplained: null };
  const d = departed.bytes;
  const a = arrived.bytes;
  const BLOCK = 4096;
  for (let base = 0; base < n; base += BLOCK) {
    const end = Math.min(n, base + BLOCK);
    if (d.compare(a, base, end, base, end) === 0) continue;
    for (let i = base; i < end; i++) {
      if (d[i] === a[i]) continue;
      if (i < intended.length && d[i] === intended[i] && i < mutated.length && a[i] === mutated[i]) {
        out.lateRead++;
        out.firstLateRead ??= i;
      } else {
        out.unexplained++;
        out.firstUnexplained ??= i;
      }
    }
  }
  return out;
}

/** The comparison as verdict inputs: integrity problems, and notes that add to the proof. */
export function comparisonFacts(c: CaptureComparison): { integrity: string[]; notes: string[] } {
  const integrity: string[] = [];
  const notes: string[] = [];
  if (c.unexplained)
    integrity.push(`${c.unexplained} byte(s) differ between the sender's capture and the agent's in a way no late read of the source explains (first at offset ${c.firstUnexplained}): the path changed them, so neither capture shows what the kernel sent`);
  if (c.lateRead)
    notes.push(`${c.lateRead} byte(s) left the sender's capture tap as intended but arrived as the mutation (first at offset ${c.firstLateRead}): the device read the pages after the tap copied them`);
  return { integrity, notes };
}
