// Claim under test: "once splice() file → pipe → socket has returned, the file may be changed".
// Hypothesis: false, as for sendfile: the pipe and then the skbs reference page-cache pages.
// Also recorded: what arrives when the file is truncated right after return.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';
import { recordTruncation } from './helpers/t-truncation.ts';

const session = useSession(test);

await testWithNeeds(test, 'splice: pwrite right after return changes what arrives (counterexample found and shrunk)', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['splice-pwrite']!);
  t.truthy(out.counterexample?.failing.evidence);
});

await testWithNeeds(test, 'splice: ftruncate right after return — record what arrives', ['root', 'tcpdump'], async (t) => {
  await recordTruncation(t, session, 'splice');
});
