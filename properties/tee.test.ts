// Claim under test: "tee() duplicates the bytes, so the copy in the second pipe (and what is
// spliced from it to the socket) is independent of the source buffer". Hypothesis: false — tee
// duplicates page references, not bytes: after vmsplice → pipe A, tee A → B, splice B → socket,
// overwriting the source changes both what the receiver reads and what pipe A still holds.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { isCorrupted } from '../harness/verdict/verdict.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'tee: both outputs still reference the source pages (counterexample found and shrunk)', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['tee-reuse']!, {
    corrupted: (r) => isCorrupted(r.verdict) || (r.secondOutput?.mismatchedBytes ?? 0) > 0,
  });
  const replay = out.counterexample?.failing;
  t.truthy(replay);
  if (!replay) return;
  t.true(replay.secondOutput !== undefined, 'the second output was read back');
  t.log(`second output (pipe A, read after the mutation): ${replay.secondOutput!.mismatchedBytes}/${replay.size} bytes differ, ${replay.secondOutput!.equalsMutation} equal the mutation`);
  // The proof: the socket stream or the duplicate left in pipe A carries the mutated bytes.
  t.true(isCorrupted(replay.verdict) || replay.secondOutput!.equalsMutation > 0);
});
