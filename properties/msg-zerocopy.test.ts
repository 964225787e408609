// Claim under test: "after send(MSG_ZEROCOPY) returns, the buffer may be reused before the
// error-queue completion arrives". Hypothesis: false whenever the data is still queued (receiver
// delay or small receive buffer): the skbs reference the user pages until the completion. Every
// completion's COPIED flag is recorded: on loopback the kernel copies at delivery (and for
// tcpdump), so completions say COPIED — yet the bytes queued before that copy are the user's.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { completionTotals } from './helpers/t-zerocopy.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'MSG_ZEROCOPY: reuse before the completion — observed on this kernel', ['root', 'tcpdump', 'soZerocopy'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['msg-zerocopy-reuse']!);
  // an observation: runClaim recorded and compared it; a counterexample found here has its bundle
  if (out.counterexample) t.truthy(out.counterexample.failing.evidence);
  const totals = completionTotals(out.cases);
  t.true(totals.received > 0, 'completions were collected');
  t.log(`completions: ${totals.line} — transport loopback`);
});
