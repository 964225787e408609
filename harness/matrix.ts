// The method × safeguard × transport matrix: for every cell the host supports, run a bounded set
// of stress cases (conditions under which an unsafe reuse shows) and keep every CaseReport.
// Cells and their verdicts are derived from the cases by the report (harness/report).
import type { CaseReport } from './case-report.ts';
import { makeExperiment, safeguardApplies, type Experiment, type Method, type Safeguard, type Transport } from './experiment.ts';
import { Session } from './session.ts';

export interface StressCase {
  size: number;
  receiverDelayMs: number;
  rcvbuf?: number;
}

/**
 * Conditions that expose unsafe reuse on loopback/veth (see the issues' known facts): a 64 KiB
 * and a 1 MiB message read 50 ms late with default buffers, and 1 MiB read 300 ms late with a
 * 32 MiB receive buffer (data fully ACKed and sitting in the receiver's queue: SIOCOUTQ = 0).
 */
export const STRESS_CASES: StressCase[] = [
  { size: 64 * 1024, receiverDelayMs: 50 },
  { size: 1 << 20, receiverDelayMs: 50 },
  { size: 1 << 20, receiverDelayMs: 300, rcvbuf: 32 << 20 },
];

export interface MatrixPlan {
  methods: Method[];
  safeguards: Safeguard[];
  transports: Transport[];
  /** repetitions of each stress case per cell */
  repeats: number;
  stress: StressCase[];
  /** methods/safeguards/transports this host cannot run, with the reason (from the probes) */
  unavailable: { method?: Method; safeguard?: Safeguard; transport?: Transport; reason: string }[];
}

export interface MatrixProgress {
  done: number;
  total: number;
  cell: string;
  lastVerdict?: string;
}

export function plannedCells(plan: MatrixPlan): { method: Method; safeguard: Safeguard; transport: Transport; skipped?: string }[] {
  const cells: { method: Method; safeguard: Safeguard; transport: Transport; skipped?: string }[] = [];
  for (const transport of plan.transports)
    for (const method of plan.methods)
      for (const safeguard of plan.safeguards) {
        if (!safeguardApplies(method, safeguard)) continue;
        const u = plan.unavailable.find(
          (x) => (!x.method || x.method === method) && (!x.safeguard || x.safeguard === safeguard) && (!x.transport || x.transport === transport),
        );
        cells.push({ method, safeguard, transport, ...(u ? { skipped: u.reason } : {}) });
      }
  return cells;
}

/** Runs every available cell; one session per transport. Returns all case reports. */
export async function runMatrix(
  plan: MatrixPlan,
  opts: { runDir: string; nicPair?: string; onProgress?: (p: MatrixProgress) => void; onSessionOpen?: (s: Session) => Promise<void> | void },
): Promise<CaseReport[]> {
  const cells = plannedCells(plan).filter((c) => !c.skipped);
  const total = cells.length * plan.stress.length * plan.repeats;
  const reports: CaseReport[] = [];
  let done = 0;
  for (const transport of plan.transports) {
    const mine = cells.filter((c) => c.transport === transport);
    if (!mine.length) continue;
    const session = await Session.open({ transport, family: 4, runDir: opts.runDir, nicPair: opts.nicPair });
    try {
      await opts.onSessionOpen?.(session);
      for (const cell of mine) {
        for (let rep = 0; rep < plan.repeats; rep++) {
          for (const s of plan.stress) {
            const exp: Experiment = makeExperiment({ method: cell.method, safeguard: cell.safeguard, transport, ...s });
            const r = await session.run(exp);
            reports.push(r);
            opts.onProgress?.({ done: ++done, total, cell: `${cell.method} × ${cell.safeguard} × ${transport}`, lastVerdict: r.verdict });
          }
        }
      }
    } finally {
      await session.close();
    }
  }
  return reports;
}
