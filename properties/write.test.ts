// Claim: write(2) copies the bytes into the kernel before it returns, so overwriting the user
// buffer right after write() returns never changes what crosses the wire or what the receiver
// reads — for any size from 1 B to 16 MiB, receiver delays 0–100 ms and any socket buffer sizes.
// (Negative control: the same pipeline falsifies vmsplice; verdict.test.ts shows that a doctored
// mismatch is flagged, so this property can fail.)
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'write: overwriting the buffer right after write() returns never changes what arrives', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['write-reuse']!);
  t.true(out.cases.every((c) => c.verdict === 'clean'));
});
