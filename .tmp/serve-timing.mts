import { ServeSession } from '/work/wt/serve/harness/session/serve-session.ts';
import { makeServeExperiment } from '/work/wt/serve/harness/model/serve-spec.ts';
import { toServeCaseReport } from '/work/wt/serve/harness/verdict/serve-report.ts';
import { serveEvidence } from '/work/wt/serve/harness/evidence/serve-evidence.ts';
import { nowMs } from '/work/wt/serve/harness/model/patterns.ts';
const s = await ServeSession.open({ transport: 'loopback', family: 4, fs: 'tmpfs' });
try {
  for (const set of ['sendfile=on', 'sendfile=off']) {
    const exp = makeServeExperiment({ server: 'nginx', settings: [set], mutation: 'pwrite', size: 4 << 20, clientDelayMs: 300, rcvbuf: 8 << 20 });
    for (let i = 0; i < 3; i++) {
      const t0 = nowMs();
      const o = await s.run(exp);
      const t1 = nowMs();
      const r = toServeCaseReport(o);
      const t2 = nowMs();
      serveEvidence('/tmp/serve-timing-ev', r, o);
      const t3 = nowMs();
      const tm = o.run.timings; const c = o.run.client;
      console.log(set, r.verdict, `start ${o.serverStartMs} | write ${(tm.fileWrittenAt - tm.caseStartedAt).toFixed(0)} | connect ${(c.connectedAt - tm.fileWrittenAt).toFixed(0)} | clientDone-connect ${(c.doneAt - c.connectedAt).toFixed(0)} | caseEnd-clientDone ${(tm.caseEndedAt - c.doneAt).toFixed(0)} | collect ${(o.collectedAt - tm.caseEndedAt).toFixed(0)} (finish wait ${o.wire?.finished.waitedMs.toFixed(0)}) | report ${(t2 - t1).toFixed(0)} | evidence ${(t3 - t2).toFixed(0)} | total-beyond-delay ${(t3 - t0 - 300).toFixed(0)}`);
    }
  }
} finally { await s.close(); }
