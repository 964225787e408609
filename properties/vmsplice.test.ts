// Claim under test: "after vmsplice()+splice() return, the user buffer may be reused at once".
// Hypothesis: false — the socket's skbs still reference the user's pages, so overwriting the
// buffer changes what the receiver reads. fast-check must find a counterexample and shrink it
// to the smallest size and receiver delay that still corrupt.
// Second claim (the "double buffer" folklore): with a buffer of 2× the pipe capacity, once the
// second half has been vmspliced, the first half is free again. Also expected false.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'vmsplice: reuse right after return is unsafe (counterexample found and shrunk)', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['vmsplice-reuse']!);
  t.truthy(out.counterexample?.failing.evidence, 'the shrunk case has an evidence bundle');
});

await testWithNeeds(test, 'vmsplice double buffer (2× pipe capacity): mutating the first half after vmsplicing the second is unsafe', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['vmsplice-double-buffer']!);
  t.truthy(out.counterexample?.failing.evidence, 'the shrunk case has an evidence bundle');
});
