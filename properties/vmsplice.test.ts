// Claim under test: "after vmsplice()+splice() return, the user buffer may be reused at once".
// Hypothesis: false — the socket's skbs still reference the user's pages, so overwriting the
// buffer changes what the receiver reads. fast-check must find a counterexample and shrink it
// to the smallest size and receiver delay that still corrupt.
import test from 'ava';
import fc from 'fast-check';
import { isCorrupted } from '../harness/verdict.ts';
import { coverage, seedFromEnv, useSession } from './helpers/t-session.ts';

const session = useSession(test);
const MiB = 1024 * 1024;

test.serial('vmsplice: reuse right after return is unsafe (fast-check finds and shrinks a counterexample)', async (t) => {
  const seed = seedFromEnv();
  let inconclusive = 0;
  const result = await fc.check(
    fc.asyncProperty(fc.integer({ min: 1, max: 8 * MiB }), fc.integer({ min: 0, max: 100 }), async (size, receiverDelayMs) => {
      const r = await session.run({ method: 'vmsplice', size, receiverDelayMs });
      if (r.verdict === 'inconclusive') inconclusive++;
      return !isCorrupted(r.verdict);
    }),
    { numRuns: 30, seed },
  );
  t.true(result.failed, `no counterexample in ${result.numRuns} runs (seed ${seed}): vmsplice reuse looked safe`);
  t.is(inconclusive, 0, 'inconclusive cases are neither evidence for nor against');
  const [size, receiverDelayMs] = result.counterexample!;
  t.log(`seed ${seed}, path ${result.counterexamplePath}: minimal counterexample after ${result.numShrinks} shrinks: size=${size} B, receiverDelayMs=${receiverDelayMs}`);
  // Show the shrunk case's evidence: run it once more and print what the receiver got.
  const again = await session.run({ method: 'vmsplice', size, receiverDelayMs });
  t.log(`replay of the minimal case: ${again.verdict}, ${again.received.mismatchedBytes}/${size} bytes differ, ${again.received.equalsMutation} equal the mutation${again.evidence ? `, evidence ${again.evidence.dir}` : ''}`);
  t.log(coverage(session.stats));
});
