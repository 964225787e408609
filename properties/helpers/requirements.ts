// LTP-style requirements for tests: a test states what it needs (root, tcpdump, io_uring SEND_ZC,
// ...) and is skipped, with the reason in its title, on hosts that lack it. The reason comes from
// the feature probes (harness/probes.ts), which exercise the feature rather than guess from the
// kernel version.
//
// ava wants every test declared while the test file is being loaded. An ESM test file may use
// top-level await: the module is not loaded until its awaits settle, so
//     await testWithNeeds('captures the retransmit', ['tcpdump', 'netns'], async (t) => { ... });
// at the top level of a .test.ts file declares the test in time.
import test, { type Implementation } from 'ava';
import { probe, type Probe, type ProbeName } from '../../harness/probes.ts';

export type Need = ProbeName;

/** "needs tcpdump: not found (apt-get install tcpdump)" */
export function needReason(p: Probe): string {
  return `needs ${p.name}: ${p.detail}${p.fix ? ` (${p.fix})` : ''}`;
}

/** One line naming every missing need with why and how to fix it, or null if all are met. */
export async function missingNeeds(needs: Need[]): Promise<string | null> {
  const probes = await Promise.all(needs.map(probe));
  const reasons = probes.filter((p) => !p.ok).map(needReason);
  return reasons.length ? reasons.join('; ') : null;
}

/**
 * Declares an ava test, or a skipped one whose title carries the reason (so it shows in the
 * default reporter and in TAP "# SKIP" lines). Await it at the top level of the test file.
 */
export async function testWithNeeds(title: string, needs: Need[], impl: Implementation<[]>): Promise<void> {
  const why = await missingNeeds(needs);
  if (why) test.skip(`${title} [skipped: ${why}]`, impl);
  else test(title, impl);
}
