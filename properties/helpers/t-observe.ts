// Records an observation (harness/model/baselines.ts), a rate, from a test: prints how it compares
// with this kernel series' baseline as a TAP comment — "below 0.01 for this observation alone" when
// Fisher's exact test says so; the report decides which of those are FINDINGs over all the run's
// comparisons — and fails the test for such a difference only under ZCPROBE_STRICT=1.
import type { ExecutionContext } from 'ava';
import { remoteFromEnv } from '../../harness/roles/agent/remote-transport.ts';
import { compareWithBaseline, readBaseline, recordObservation, strictObservations, type Observation } from '../../harness/model/baselines.ts';

export function observe(t: ExecutionContext, given: Observation): void {
  // Under ZCPROBE_REMOTE the cases ran over the agent's path, whatever the suite names.
  const o = remoteFromEnv() ? { ...given, transport: 'remote' } : given;
  recordObservation(o);
  // One test sees one observation, not the run's family: p below 1 % here is a hint the report judges
  // against every comparison of the run (baselines.ts judgeFamily), not a FINDING yet.
  const c = compareWithBaseline(o, readBaseline(o.transport));
  t.log(c.line);
  if (o.detail) t.log(`  ${o.detail}`);
  if (c.status === 'differs') {
    // stderr too: seen even by someone reading only the live console
    process.stderr.write(`\n*** zcprobe observation ${c.line} (the report judges it with the run's other comparisons)\n`);
    if (strictObservations()) t.fail(`${c.line} (ZCPROBE_STRICT=1)`);
  }
}
