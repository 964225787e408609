// Claim: once the receiving application acknowledges that it has read every byte, the sender may
// reuse its buffer or change its file, whatever the send method — the end-to-end safe point.
// Expected to hold for every zero-copy method and mmap+write.
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'app-ack: reuse after the application ack is safe for every method', ['root', 'tcpdump', 'soZerocopy', 'ioUringSendZc'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['app-ack']!);
  const methods = [...new Set(out.cases.map((c) => c.method))].sort();
  t.log(`  methods covered: ${methods.join(', ')}`);
});

// Hypothesis: when another process changes the file, it is asked only after the safeguard's wait
// has ended, so a change the safeguard never held back is never blamed on it (issue 10, item 3).
await testWithNeeds(test, 'app-ack: another process changes the file only after the ack, and the case is clean', ['root', 'tcpdump'], async (t) => {
  for (const method of ['sendfile', 'splice'] as const) {
    const c = await session.run({ method, size: 64 * 1024, safeguard: 'app-ack', receiverDelayMs: 60, mutatedBy: 'other-process', mutation: 'pwrite' });
    const writer = c.safeguardResult.writer;
    if (!writer) return t.fail(`${c.id}: no writer record`);
    const waitEnded = c.timings.sendReturnedAt + c.safeguardResult.waitedMs;
    t.true(c.safeguardResult.reached, `${c.id}: ${c.safeguardResult.signal}`);
    // The ack comes only after the reader (which sleeps 60 ms after accept) has read everything.
    const firstRead = c.timings.receiverFirstReadAt;
    t.true(firstRead !== null && waitEnded >= firstRead - 1, `${c.id}: the wait ended before the receiver's first read`);
    // 1 ms of slack: the two processes' clocks are the same clock read at different instants
    t.true(writer.openStartedAt >= waitEnded - 1, `${c.id}: the writer opened at +${(writer.openStartedAt - c.timings.sendReturnedAt).toFixed(1)} ms, the wait ended at +${c.safeguardResult.waitedMs.toFixed(1)} ms`);
    t.is(c.verdict, 'clean', `${c.id}: ${c.reasons.join('; ')}`);
  }
});
