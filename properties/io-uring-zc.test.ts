// Claim under test: "after the io_uring SEND_ZC result CQE arrives, the buffer may be reused before the
// F_NOTIF CQE arrives". Hypothesis: false whenever the data is still queued (receiver
// delay or small receive buffer): the skbs reference the user pages until the notification. Every
// notification's COPIED flag (IORING_SEND_ZC_REPORT_USAGE) is recorded: on loopback the kernel copies at delivery (and for
// tcpdump), so completions say COPIED — yet the bytes queued before that copy are the user's.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { completionTotals } from './helpers/t-zerocopy.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'io_uring SEND_ZC: reuse before the F_NOTIF CQE — observed on this kernel', ['root', 'tcpdump', 'ioUringSendZc'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['io-uring-zc-reuse']!);
  // an observation: runClaim recorded and compared it; a counterexample found here has its bundle
  if (out.counterexample) t.truthy(out.counterexample.failing.evidence);
  const totals = completionTotals(out.cases);
  t.true(totals.received > 0, 'completions were collected');
  t.log(`notifications: ${totals.line} — transport loopback`);
});
