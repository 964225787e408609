// Claim: for MSG_ZEROCOPY and io_uring SEND_ZC, waiting for the completion that covers the send
// (error-queue notification / F_NOTIF CQE) before reusing the buffer is always safe — any size,
// receiver delay and buffer sizes. Expected to hold; the COPIED flags are recorded (loopback
// copies at delivery, so every completion is COPIED here).
import test from 'ava';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { completionTotals } from './helpers/t-zerocopy.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'zc-completion: reuse after the completion is safe (MSG_ZEROCOPY and io_uring SEND_ZC)', ['root', 'tcpdump', 'soZerocopy', 'ioUringSendZc'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['zc-completion']!);
  const zc = out.cases.flatMap((c) => (c.zerocopy ? [c.zerocopy] : []));
  t.true(zc.length === out.cases.length && zc.every((z) => z.received === z.expected), 'every send completed before the mutation');
  t.log(`  completions: ${completionTotals(out.cases).line}, waited median ${median(out.cases.map((c) => c.safeguardResult.waitedMs)).toFixed(1)} ms`);
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}
