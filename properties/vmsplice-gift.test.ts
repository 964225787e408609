// Claim under test: "vmsplice() with SPLICE_F_GIFT hands the pages to the kernel, so the buffer
// may be reused". Hypothesis: false on this kernel — man vmsplice says the application must not
// modify gifted pages, and the kernel neither steals nor copies them for a socket: reusing them
// changes what arrives exactly as without the flag.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'vmsplice + SPLICE_F_GIFT: gift does not protect a buffer that is reused', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['vmsplice-gift-reuse']!);
  t.truthy(out.counterexample?.failing.evidence);
});
