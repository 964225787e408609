// Records an observation (harness/model/baselines.ts), a rate, from a test: prints how it compares
// with this kernel series' baseline as a TAP comment — "FINDING: …" when the rates differ beyond
// chance (Fisher's exact test, p < 1 %) — and fails the test for a finding only under ZCPROBE_STRICT=1.
import type { ExecutionContext } from 'ava';
import { remoteFromEnv } from '../../harness/roles/agent/remote-transport.ts';
import { compareWithBaseline, readBaseline, recordObservation, strictObservations, type Observation } from '../../harness/model/baselines.ts';

export function observe(t: ExecutionContext, given: Observation): void {
  // Under ZCPROBE_REMOTE the cases ran over the agent's path, whatever the suite names.
  const o = remoteFromEnv() ? { ...given, transport: 'remote' } : given;
  recordObservation(o);
  const c = compareWithBaseline(o, readBaseline(o.transport));
  t.log(c.line);
  if (o.detail) t.log(`  ${o.detail}`);
  if (c.status === 'differs') {
    // stderr too: a finding must be seen even by someone reading only the live console
    process.stderr.write(`\n*** zcprobe ${c.line}\n`);
    if (strictObservations()) t.fail(`${c.line} (ZCPROBE_STRICT=1)`);
  }
}
