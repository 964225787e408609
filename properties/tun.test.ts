// Safeguard claims over a copying link (the tun transport): the receiving kernel builds its own
// copy of every packet (zcrelay copies it), so "ACKed" means the receiver holds the bytes — unlike
// loopback and veth, where its queue shares the sender's pages. Which claims then hold is the
// kernel's answer, not ours: claims that are contracts of an API (the zero-copy completion, the
// application's ack) are asserted; the others are observations (harness/model/claims/tun.ts records
// what this kernel showed), reported with their evidence.
// With seeded loss the link drops data segments, so TCP retransmits from the sender's pages:
// "reuse after the send returns but before the ACK" becomes testable.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { CLAIMS } from '../harness/model/claims/index.ts';
import { TUN_CLAIMS } from '../harness/model/claims/tun.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { observeClaim, verdictCounts } from './helpers/t-tun-observe.ts';
import { useSession } from './helpers/t-session.ts';
import { completionTotals } from './helpers/t-zerocopy.ts';

const netnsList = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
const before = process.getuid?.() === 0 ? netnsList() : '';
const session = useSession(test, { transport: 'tun', family: 4 }, (t) => {
  if (process.getuid?.() === 0) t.is(netnsList(), before, 'no namespace is left behind');
});
const tunClaim = (id: string) => TUN_CLAIMS.find((c) => c.id === id)!;
const NEEDS = ['root', 'tcpdump', 'tun'] as const;

// The reference case: 1 MiB, 32 MiB receive buffer, reader 300 ms late, SIOCOUTQ = 0.
await testWithNeeds(test, 'tun: siocoutq with a 32 MiB rcvbuf and a reader 300 ms late (observation)', [...NEEDS], async (t) => {
  const o = await observeClaim(t, session, tunClaim('tun-siocoutq-queued'));
  t.log(`  safeguard waits: ${o.cases.map((c) => c.safeguardResult.waitedMs.toFixed(0)).join(', ')} ms`);
});

await testWithNeeds(test, 'tun: reuse after the zero-copy completion is safe (universal); COPIED fraction recorded', [...NEEDS, 'soZerocopy', 'ioUringSendZc'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['zc-completion']!, { numRuns: 12 });
  const totals = completionTotals(out.cases);
  t.true(totals.received > 0 && totals.received === totals.expected, `every send completed: ${totals.line}`);
  t.log(`  completions over tun: ${totals.line}`);
});

await testWithNeeds(test, "tun: reuse after the application's ack is safe for every method (universal)", [...NEEDS, 'soZerocopy', 'ioUringSendZc'], async (t) => {
  await runClaim(t, session, CLAIMS['app-ack']!, { numRuns: 12 });
});

for (const id of ['tun-none-lossy', 'tun-siocoutqnsd-lossy', 'tun-siocoutq-lossy']) {
  const claim = tunClaim(id);
  await testWithNeeds(test, `tun + seeded loss: ${claim.statement} (observation)`, [...NEEDS, 'soZerocopy', 'ioUringSendZc'], async (t) => {
    const o = await observeClaim(t, session, claim);
    // A corruption found only in a retransmission is the loss's own proof: both captures show it.
    const onRetransmit = o.cases.filter((c) => c.wire.capture === 'captured' && c.wire.conflicts.length > 0);
    for (const c of onRetransmit) {
      const w = c.wire.capture === 'captured' ? c.wire : null;
      t.true((w?.retransmissions ?? 0) > 0, `${c.id}: the sender-side capture shows the retransmission`);
      t.truthy(c.link?.arrived, `${c.id}: the receiver-side capture was compared`);
    }
    t.log(`  retransmissions with changed bytes in ${onRetransmit.length} case(s); verdicts ${verdictCounts(o.cases)}`);
  });
}

for (const id of ['tun-zc-completion-lossy', 'tun-app-ack-lossy']) {
  const claim = tunClaim(id);
  await testWithNeeds(test, `tun + seeded loss: ${claim.statement} (universal)`, [...NEEDS, 'soZerocopy', 'ioUringSendZc'], async (t) => {
    const out = await runClaim(t, session, claim);
    const drops = out.cases.reduce((a, c) => a + (c.link?.events.filter((e) => e.kind === 'drop').length ?? 0), 0);
    t.true(drops > 0, 'the link injected losses');
    t.log(`  ${drops} data segment(s) dropped by the link over ${out.cases.length} cases`);
  });
}
