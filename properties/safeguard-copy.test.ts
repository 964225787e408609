// Claim: falling back to a copy (write(2) of the same bytes) makes reuse right after return safe
// for every source a zero-copy method would have used — the reference the cost is measured against.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'copy: sending by write() makes reuse right after return safe', ['root', 'tcpdump'], async (t) => {
  await runClaim(t, session, CLAIMS['copy']!);
});
