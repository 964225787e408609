// Claim: once the receiving application acknowledges that it has read every byte, the sender may
// reuse its buffer or change its file, whatever the send method — the end-to-end safe point.
// Expected to hold for every zero-copy method and mmap+write.
import test from 'ava';
import { CLAIMS } from '../harness/claims.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'app-ack: reuse after the application ack is safe for every method', ['root', 'tcpdump', 'soZerocopy', 'ioUringSendZc'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['app-ack']!);
  const methods = [...new Set(out.cases.map((c) => c.method))].sort();
  t.log(`  methods covered: ${methods.join(', ')}`);
});
