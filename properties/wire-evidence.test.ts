// Claim: the three streams tell where corruption happens. Universal: sendfile + pwrite and
// vmsplice + overwrite right after return, read 50 ms late, corrupt (every differing byte is the
// new content, the evidence pcap holds only the case's connection, mutated bytes hit the wire only
// after the mutation); write() is clean, and its retransmissions (seen on lo under an 8 MiB burst
// with a 50 ms receiver delay) carry identical bytes, so they are not reported as conflicts.
// Where the corruption shows (on the wire or only after it) is this kernel's: an observation
// (6.18 on loopback: sendfile after-wire, vmsplice on-wire; 6.1 puts sendfile's on the wire).
import test from 'ava';
import { existsSync } from 'node:fs';
import { decodePcap } from '../harness/capture/pcap.ts';
import { pcapngToPcap } from '../harness/evidence/pcapng.ts';
import { readFileSync } from 'node:fs';
import { isCorrupted, type Verdict } from '../harness/verdict/verdict.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { observe } from './helpers/t-observe.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);
const RUNS = 10;

/** "corrupted-after-wire 10/10" — the verdict kinds of a run of cases, for the observation */
function tally(verdicts: Verdict[]): string {
  const n = new Map<Verdict, number>();
  for (const v of verdicts) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n].sort(([a], [b]) => a.localeCompare(b)).map(([v, k]) => `${v} ${k}/${verdicts.length}`).join(', ');
}

await testWithNeeds(test, 'sendfile 64KiB, pwrite after return, receiver waits 50 ms: corrupted 10/10, the new bytes only; where it shows is observed', ['root', 'tcpdump'], async (t) => {
  const verdicts: Verdict[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await session.run({ method: 'sendfile', size: 64 * 1024, receiverDelayMs: 50 });
    t.true(isCorrupted(r.verdict), `${r.verdict}: ${JSON.stringify(r.reasons)}`);
    verdicts.push(r.verdict);
    t.is(r.received.equalsMutation, r.received.mismatchedBytes, 'every differing byte is the new file content');
    t.true(r.evidence !== undefined && existsSync(r.evidence.dir));
    const pcap = decodePcap(pcapngToPcap(readFileSync(r.evidence!.pcap!)));
    t.true(pcap.segments.every((s) => s.srcPort === r.connection.srcPort || s.dstPort === r.connection.srcPort), 'the evidence pcap holds only this connection');
  }
  // Every case was asserted corrupted: the rate is of the kind 6.18 shows, after the wire.
  const statement = 'where sendfile + pwrite right after return (64 KiB, reader 50 ms late) shows';
  const seen = verdicts.filter((v) => v === 'corrupted-after-wire').length;
  const detail = tally(verdicts);
  const id = 'wire-evidence-sendfile-64k';
  observe(t, { id, statement, event: 'corrupted-after-wire', seen, runs: RUNS, transport: 'loopback', detail });
});

await testWithNeeds(test, 'vmsplice 1MiB, overwrite after return, receiver waits 50 ms: corrupted 10/10, mutated bytes on the wire only after the mutation; where it shows is observed', ['root', 'tcpdump'], async (t) => {
  const verdicts: Verdict[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await session.run({ method: 'vmsplice', size: 1 << 20, receiverDelayMs: 50 });
    t.true(isCorrupted(r.verdict), `${r.verdict}: ${JSON.stringify(r.reasons)}`);
    verdicts.push(r.verdict);
    if (r.wire.capture !== 'captured') return t.fail('no capture');
    t.is(r.wire.equalsMutation, r.wire.mismatchedBytes, 'every byte that differs on the wire is the new content');
    if (r.wire.mismatchedBytes > 0)
      t.true(r.timings.firstMutatedPacketAt !== null && r.timings.firstMutatedPacketAt >= r.timings.mutatedAt - 5, 'mutated bytes hit the wire after the mutation');
  }
  const statement = 'where vmsplice + overwrite right after return (1 MiB, reader 50 ms late) shows';
  const seen = verdicts.filter((v) => v === 'corrupted-on-wire').length;
  const detail = tally(verdicts);
  observe(t, { id: 'wire-evidence-vmsplice-1m', statement, event: 'corrupted-on-wire', seen, runs: RUNS, transport: 'loopback', detail });
});

await testWithNeeds(test, 'write 8MiB, receiver waits 50 ms: clean 10/10; identical retransmissions are not conflicts', ['root', 'tcpdump'], async (t) => {
  let retransmissions = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await session.run({ method: 'write', size: 8 << 20, receiverDelayMs: 50 });
    t.is(r.verdict, 'clean', JSON.stringify(r.reasons));
    if (r.wire.capture !== 'captured') return t.fail('no capture');
    t.deepEqual(r.wire.conflicts, []);
    retransmissions += r.wire.retransmissions;
  }
  t.log(`${retransmissions} identical retransmissions seen over ${RUNS} cases`);
});
