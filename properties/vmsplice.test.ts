// Claim under test: "after vmsplice()+splice() return, the user buffer may be reused at once".
// Hypothesis: false — the socket's skbs still reference the user's pages, so overwriting the
// buffer changes what the receiver reads. fast-check must find a counterexample and shrink it
// to the smallest size and receiver delay that still corrupt.
// Second claim (the "double buffer" folklore): with a buffer of 2× the pipe capacity, once the
// second half has been vmspliced, the first half is free again. Also expected false.
import test from 'ava';
import fc from 'fast-check';
import { CLAIMS } from '../harness/claims.ts';
import { testWithNeeds } from './helpers/requirements.ts';
import { runClaim } from './helpers/t-claims.ts';
import { useSession } from './helpers/t-session.ts';

const session = useSession(test);

await testWithNeeds(test, 'vmsplice: reuse right after return is unsafe (counterexample found and shrunk)', ['root', 'tcpdump'], async (t) => {
  const out = await runClaim(t, session, CLAIMS['vmsplice-reuse']!);
  t.truthy(out.counterexample?.failing.evidence, 'the shrunk case has an evidence bundle');
});

await testWithNeeds(test, 'vmsplice double buffer (2× pipe capacity): mutating the first half after vmsplicing the second is unsafe', ['root', 'tcpdump'], async (t) => {
  // The pipe holds `pipeSize`; the message is 2 × pipeSize; the mutation overwrites only the
  // first half once the whole message was spliced (the "double buffer" scheme's reuse point).
  const result = await fc.check(
    fc.asyncProperty(fc.constantFrom(16384, 65536, 262144), fc.integer({ min: 0, max: 100 }), async (pipeSize, receiverDelayMs) => {
      const r = await session.run({ method: 'vmsplice', size: 2 * pipeSize, pipeSize, receiverDelayMs, mutationRange: 'first-half' });
      return r.received.mismatchedBytes === 0 && (r.wire.capture !== 'captured' || r.wire.mismatchedBytes === 0);
    }),
    { numRuns: 20 },
  );
  t.true(result.failed, 'the double-buffer scheme looked safe');
  const [pipeSize, receiverDelayMs] = result.counterexample!;
  t.log(`double buffer falsified: pipe ${pipeSize} B, message ${2 * pipeSize} B, receiver delay ${receiverDelayMs} ms (seed ${result.seed}, path ${result.counterexamplePath})`);
});
