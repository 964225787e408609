// The evidence suite's filesystem part: file methods × mutations × safeguards, one session per filesystem, loopback, 1 MiB read
// 50 ms late. Mutations a filesystem cannot do are skipped with the probed reason; leases use another process (docs/filesystems.md).
import type { CaseReport } from '../verdict/case-report.ts';
import { makeExperiment, type Method, type Safeguard } from '../model/experiment.ts';
import type { FsSpec } from '../model/fs-spec.ts';
import { CaseUnsupported } from '../session/run-case.ts';
import { Session } from '../session/session.ts';
import { judgeCase } from '../evidence/judge.ts';
import { BundlePolicy } from '../evidence/bundle-policy.ts';

export interface FsPlan {
  filesystems: FsSpec[];
  methods: Method[];
  /** mutation texts resolved against FS_STRESS.size */
  mutations: string[];
  safeguards: Safeguard[];
  repeats: number;
  /** filesystems this host cannot mount, with the reason (from the probes) */
  unavailable: { fs: FsSpec; reason: string }[];
}

export const FS_STRESS = { size: 1 << 20, receiverDelayMs: 50 };

/** Ranges chosen for a 1 MiB message: a truncation inside the message, not on a folio boundary;
 * an aligned hole in the middle; whole-file writes. */
export const FS_MUTATIONS = ['pwrite', 'truncate:600000', 'punch-hole:262144:524288', 'odirect-write', 'rename-replace', 'reflink-then-write'];

export interface FsSkip {
  fs: FsSpec;
  method: Method;
  mutation: string;
  safeguard: Safeguard;
  reason: string;
}

export async function runFsMatrix(
  plan: FsPlan,
  opts: { runDir: string; onProgress?: (p: { done: number; total: number; cell: string; lastVerdict?: string }) => void },
): Promise<{ cases: CaseReport[]; skipped: FsSkip[] }> {
  const cases: CaseReport[] = [];
  const skipped: FsSkip[] = [];
  const each = plan.methods.length * plan.mutations.length * plan.safeguards.length;
  const total = plan.filesystems.length * each * plan.repeats;
  let done = 0;
  for (const fs of plan.filesystems) {
    const away = plan.unavailable.find((u) => u.fs === fs);
    if (away) {
      for (const method of plan.methods) {
        for (const mutation of plan.mutations) {
          for (const safeguard of plan.safeguards) skipped.push({ fs, method, mutation, safeguard, reason: away.reason });
        }
      }
      done += each * plan.repeats;
      continue;
    }
    const session = await Session.open({ transport: 'loopback', family: 4, runDir: opts.runDir, fs });
    const bundles = new BundlePolicy(); // one full bundle per cell and verdict (each filesystem is its own cell)
    try {
      for (const method of plan.methods)
        for (const mutation of plan.mutations)
          for (const safeguard of plan.safeguards) {
            const cell = `${method} × ${mutation} × ${safeguard} on ${fs}`;
            for (let rep = 0; rep < plan.repeats; rep++) {
              const exp = makeExperiment({ method, fs, safeguard, mutation: mutation as never, transport: 'loopback', ...FS_STRESS });
              try {
                const r = await judgeCase(session, exp, bundles);
                cases.push(r);
                opts.onProgress?.({ done: ++done, total, cell, lastVerdict: r.verdict });
              } catch (e) {
                if (!(e instanceof CaseUnsupported)) throw e;
                skipped.push({ fs, method, mutation, safeguard, reason: e.reason });
                done += plan.repeats - rep;
                opts.onProgress?.({ done, total, cell, lastVerdict: 'skipped' });
                break;
              }
            }
          }
    } finally {
      await session.close();
    }
  }
  return { cases, skipped };
}
