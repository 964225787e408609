// Claim: the safeguard verdicts hold on a veth pair between two network namespaces too, and the
// harness removes every namespace it made. Timeline: list namespaces, run the three
// reference cases over veth (vmsplice + SIOCOUTQ with a 32 MiB receive buffer read 300 ms late,
// five times → the corrupted rate, an observation; MSG_ZEROCOPY + completion → clean; sendfile +
// application ack → clean), list again.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { isCorrupted, type Verdict } from '../harness/verdict/verdict.ts';
import { CORRUPTED } from '../harness/model/baselines.ts';
import { observe } from './helpers/t-observe.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { useSession } from './helpers/t-session.ts';

const netnsList = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
const before = process.getuid?.() === 0 ? netnsList() : '';
const session = useSession(test, { transport: 'veth', family: 4 }, (t) => {
  if (process.getuid?.() === 0) t.is(netnsList(), before, 'no namespace is left behind');
});

await testWithNeeds(test, 'veth: vmsplice + siocoutq (32 MiB rcvbuf, reader 300 ms late) — observed on this kernel', ['root', 'tcpdump', 'netns'], async (t) => {
  const verdicts: Verdict[] = [];
  // 5 cases: the fewest whose all-or-nothing rate can differ from a baseline's at 1 % (Fisher).
  for (let i = 0; i < 5; i++) {
    const r = await session.run({ method: 'vmsplice', size: 1 << 20, safeguard: 'siocoutq', rcvbuf: 32 << 20, receiverDelayMs: 300 });
    t.not(r.verdict, 'inconclusive', r.reasons.join('; '));
    if (isCorrupted(r.verdict)) t.truthy(r.evidence, 'a corrupted case has its evidence bundle');
    verdicts.push(r.verdict);
  }
  const corrupted = verdicts.filter(isCorrupted).length;
  const statement = 'vmsplice + SIOCOUTQ = 0 with a 32 MiB receive buffer and a reader 300 ms late';
  const detail = verdicts.join(', ');
  const id = 'siocoutq-vmsplice-veth';
  observe(t, { id, statement, event: CORRUPTED, seen: corrupted, runs: verdicts.length, transport: 'veth', detail });
});

await testWithNeeds(test, 'veth: msg-zerocopy + zc-completion and sendfile + app-ack are clean', ['root', 'tcpdump', 'netns', 'soZerocopy'], async (t) => {
  for (let i = 0; i < 3; i++) {
    t.is((await session.run({ method: 'msg-zerocopy', size: 1 << 20, safeguard: 'zc-completion', receiverDelayMs: 50 })).verdict, 'clean');
    t.is((await session.run({ method: 'sendfile', size: 1 << 20, safeguard: 'app-ack', receiverDelayMs: 50 })).verdict, 'clean');
  }
});
