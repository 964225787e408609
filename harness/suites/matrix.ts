// The method × safeguard × transport matrix: for every cell the host supports, run a bounded set
// of stress cases (conditions under which an unsafe reuse shows) and keep every CaseReport.
// Cells and their verdicts are derived from the cases by the report (harness/report).
import { familyOf, type RemoteOptions } from '../roles/agent/remote-transport.ts';
import type { CaseReport } from '../verdict/case-report.ts';
import {
  defaultSenderCapture, makeExperiment, safeguardApplies, type Experiment, type Method, type Safeguard, type SenderCapture, type Transport,
} from '../model/experiment.ts';
import { failedCaseReport } from '../verdict/failed-case.ts';
import { judgeCase } from '../evidence/judge.ts';
import { BundlePolicy } from '../evidence/bundle-policy.ts';
import { Session, type SessionOptions } from '../session/session.ts';

export interface StressCase {
  size: number;
  receiverDelayMs: number;
  rcvbuf?: number;
  sndbuf?: number;
}

/**
 * Conditions that expose unsafe reuse on loopback/veth (see the issues' known facts): a 64 KiB
 * and a 1 MiB message read 50 ms late with default buffers, 1 MiB read 300 ms late with a 32 MiB
 * receive buffer (data fully ACKed and sitting in the receiver's queue: SIOCOUTQ = 0), and 1 MiB
 * into a 4 MiB send buffer read 50 ms late. The last is the one that shows a zero-copy send's
 * unsent bytes every time: the send returns at once with most bytes still queued. With default
 * buffers the 1 MiB send returns only once the reader has opened the window, and whether its last
 * bytes left inside the call is a race (over veth 6.18.44: clean exactly when they had; 16/30
 * corrupted in one session, 2/8 in another, on a loaded host).
 */
export const STRESS_CASES: StressCase[] = [
  { size: 64 * 1024, receiverDelayMs: 50 },
  { size: 1 << 20, receiverDelayMs: 50 },
  { size: 1 << 20, receiverDelayMs: 300, rcvbuf: 32 << 20 },
  { size: 1 << 20, receiverDelayMs: 50, sndbuf: 4 << 20 },
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
  /** --sender-capture for every cell; absent: each method's default on its transport */
  senderCapture?: SenderCapture;
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

/** What runMatrix needs of a session (a judged Session; tests pass a stand-in). */
export interface MatrixSession extends Pick<Session, 'close' | 'transport' | 'hosts' | 'captureLine'> {
  run(exp: Experiment): Promise<CaseReport>;
}

/** A Session whose cases are judged and leave evidence (a full bundle for the first case of each cell and verdict). */
async function openJudged(o: SessionOptions, bundles: BundlePolicy): Promise<MatrixSession> {
  const s = await Session.open(o);
  return {
    transport: s.transport, hosts: s.hosts, captureLine: s.captureLine, run: (exp) => judgeCase(s, exp, bundles), close: () => s.close(),
  };
}

export interface MatrixOptions {
  runDir: string;
  onProgress?: (p: MatrixProgress) => void;
  onSessionOpen?: (s: MatrixSession) => Promise<void> | void;
  /** opens a session for a transport (default Session.open) */
  openSession?: (o: SessionOptions) => Promise<MatrixSession>;
  /** nic: "IF1,IF2" */
  nicPair?: string;
  /** remote transport: the agent to use */
  remote?: RemoteOptions;
}

/**
 * Runs every available cell; one session per transport. Returns all case reports. A case that
 * throws, or a session that does not open, becomes an inconclusive case carrying the error (see
 * failed-case.ts) and the run goes on; after a failed case the session is reopened, so one broken
 * receiver or capture cannot fail every case after it.
 */
export async function runMatrix(plan: MatrixPlan, opts: MatrixOptions): Promise<CaseReport[]> {
  const bundles = new BundlePolicy();
  const open = opts.openSession ?? ((o: SessionOptions) => openJudged(o, bundles));
  const cells = plannedCells(plan).filter((c) => !c.skipped);
  const total = cells.length * plan.stress.length * plan.repeats;
  const reports: CaseReport[] = [];
  let done = 0;
  // One session per transport and sender-capture placement (zero-copy methods over nic and remote
  // go without the sender's tcpdump by default: docs/capture-placement.md).
  const placement = (m: Method, t: Transport) => plan.senderCapture ?? defaultSenderCapture(m, t);
  const groups = plan.transports.flatMap((transport) =>
    (['on', 'off'] as const).map((senderCapture) => ({
      transport, senderCapture, cells: cells.filter((c) => c.transport === transport && placement(c.method, transport) === senderCapture),
    })),
  );
  for (const { transport, senderCapture, cells: mine } of groups) {
    if (!mine.length) continue;
    // The agent's address decides the family of remote cases; local ones run over IPv4.
    const family = transport === 'remote' && opts.remote ? familyOf(opts.remote) : 4;
    // The transport's current session, or why it could not be opened.
    const current: { session: MatrixSession | null; openError: unknown } = { session: null, openError: null };
    const reopen = async (): Promise<void> => {
      const old = current.session;
      current.session = null;
      await old?.close().catch(() => undefined); // its own failure is not this case's
      try {
        current.session = await open({ transport, family, runDir: opts.runDir, remote: opts.remote, nicPair: opts.nicPair, senderCapture });
        current.openError = null;
        await opts.onSessionOpen?.(current.session);
      } catch (e) {
        current.openError = e;
      }
    };
    await reopen();
    try {
      for (const cell of mine) {
        for (let rep = 0; rep < plan.repeats; rep++) {
          for (const s of plan.stress) {
            const exp: Experiment = makeExperiment({ method: cell.method, safeguard: cell.safeguard, transport, family, ...s });
            let r: CaseReport;
            if (!current.session) {
              r = failedCaseReport(exp, current.openError, `opening the ${transport} session`);
            } else {
              try {
                r = await current.session.run(exp);
              } catch (e) {
                r = failedCaseReport(exp, e, 'the case');
                await reopen();
              }
            }
            reports.push(r);
            opts.onProgress?.({ done: ++done, total, cell: `${cell.method} × ${cell.safeguard} × ${transport}`, lastVerdict: r.verdict });
          }
        }
      }
    } finally {
      await current.session?.close();
    }
  }
  return reports;
}
