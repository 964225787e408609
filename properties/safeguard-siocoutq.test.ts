// Claims under test: "poll ioctl(SIOCOUTQ) until 0, then reuse" and its cousin SIOCOUTQNSD.
// Hypothesis: false whenever the receiver has not read yet — SIOCOUTQ = 0 means every byte was
// ACKed, and on loopback/veth ACKed bytes sit in the receiver's queue still referencing the
// sender's pages (the wire shows the original bytes, the receiver reads the new ones). A small
// receive buffer narrows the window but the last buffer-full is ACKed unread: fast-check shrinks
// to the message size below which the drain does not protect. SIOCOUTQNSD ("not sent") drains
// even earlier, so it is the wrong signal too.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

for (const id of ['siocoutq-queued', 'siocoutq-small-rcvbuf', 'siocoutqnsd-queued']) {
  const claim = CLAIMS[id]!;
  await testWithNeeds(test, `${id}: ${claim.statement} — observed on this kernel`, ['root', 'tcpdump'], async (t) => {
    const out = await runClaim(t, session, claim);
    const r = out.counterexample?.failing;
    if (r) t.truthy(r.evidence, 'the shrunk case has an evidence bundle');
    if (r) t.log(`  safeguard waited ${r.safeguardResult.waitedMs.toFixed(1)} ms (${r.safeguardResult.signal}) before the mutation`);
  });
}
