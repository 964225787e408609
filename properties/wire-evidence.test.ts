// Claim: the three streams tell where corruption happens. On loopback, sendfile + pwrite right
// after return puts the ORIGINAL bytes on the wire while the receiver reads the NEW ones
// (corrupted-after-wire); vmsplice + overwrite puts the new bytes on the wire itself
// (corrupted-on-wire); write() is clean, and its retransmissions (seen on lo under an 8 MiB
// burst with a 50 ms receiver delay) carry identical bytes, so they are not reported as conflicts.
import test from 'ava';
import { existsSync } from 'node:fs';
import { decodePcap } from '../harness/capture/pcap.ts';
import { readFileSync } from 'node:fs';
import { testWithNeeds } from './helpers/requirements.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);
const RUNS = 10;

await testWithNeeds(test, 'sendfile 64KiB, pwrite after return, receiver waits 50 ms: corrupted-after-wire 10/10', ['root', 'tcpdump'], async (t) => {
  for (let i = 0; i < RUNS; i++) {
    const r = await session.run({ method: 'sendfile', size: 64 * 1024, receiverDelayMs: 50 });
    t.is(r.verdict, 'corrupted-after-wire', JSON.stringify(r.reasons));
    t.is(r.received.equalsMutation, r.received.mismatchedBytes, 'every differing byte is the new file content');
    t.true(r.evidence !== undefined && existsSync(r.evidence.dir));
    const pcap = decodePcap(readFileSync(r.evidence!.pcap!));
    t.true(pcap.segments.every((s) => s.srcPort === r.connection.srcPort || s.dstPort === r.connection.srcPort), 'the evidence pcap holds only this connection');
  }
});

await testWithNeeds(test, 'vmsplice 1MiB, overwrite after return, receiver waits 50 ms: corrupted-on-wire 10/10', ['root', 'tcpdump'], async (t) => {
  for (let i = 0; i < RUNS; i++) {
    const r = await session.run({ method: 'vmsplice', size: 1 << 20, receiverDelayMs: 50 });
    t.is(r.verdict, 'corrupted-on-wire');
    if (r.wire.capture !== 'captured') return t.fail('no capture');
    t.true(r.wire.equalsMutation > 0 && r.wire.equalsMutation === r.wire.mismatchedBytes);
    t.true(r.timings.firstMutatedPacketAt !== null && r.timings.firstMutatedPacketAt >= r.timings.mutatedAt - 5, 'mutated bytes hit the wire after the mutation');
  }

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
