// LTP-style requirements for tests: a test states what it needs (root, tcpdump, io_uring SEND_ZC,
// ...) and is skipped, with the reason in its title, on hosts that lack it. The reasons come from
// the feature probes (harness/world/probes.ts), which exercise each feature instead of guessing from the
// kernel version.
//
// Declaration timing: ava starts running a file's tests on the process.nextTick after the first
// test or hook is declared, and any declaration after that throws ("must be declared
// synchronously"). An ESM test file may use top-level await, but an await that really waits (the
// tcpdump and netns probes do I/O) is only safe before the file's first declaration, and files
// declare hooks first (useSession(test)). So this module runs every probe during its own
// evaluation, via top-level await: an imported module finishes evaluating before the importing
// test file's body starts. testWithNeeds then declares synchronously from the cached results, and
// `await testWithNeeds(...)` only waits on microtasks, which settle before ava's nextTick start.
import test, { type Implementation, type TestFn } from 'ava';
import { runAllProbes, type Probe, type ProbeName } from '../../harness/world/probes.ts';

export type Need = ProbeName;

const results = new Map((await runAllProbes()).map((p) => [p.name, p]));

/** "needs tcpdump: not found (apt-get install tcpdump)" */
export function needReason(p: Probe): string {
  return `needs ${p.name}: ${p.detail}${p.fix ? ` (${p.fix})` : ''}`;
}

function reasonNow(needs: Need[]): string | null {
  const probes = needs.map((n): Probe => results.get(n) ?? { name: n, ok: false, detail: 'unknown requirement' });
  const reasons = probes.filter((p) => !p.ok).map(needReason);
  return reasons.length ? reasons.join('; ') : null;
}

/** One line naming every missing need with why and how to fix it, or null if all are met. */
export async function missingNeeds(needs: Need[]): Promise<string | null> {
  return reasonNow(needs);
}

/**
 * Declares an ava test, or a skipped one whose title carries the reason (so it shows in the
 * default reporter and in TAP "# SKIP" lines). Declares synchronously (see the top of this file);
 * awaiting it at the top level of a test file is harmless. Pass the file's `test` first to declare
 * on it (e.g. a `TestFn<Context>` with a typed context).
 */
export async function testWithNeeds(title: string, needs: Need[], impl: Implementation<[]>): Promise<void>;
export async function testWithNeeds<C>(testFn: TestFn<C>, title: string, needs: Need[], impl: Implementation<[], C>): Promise<void>;
export async function testWithNeeds<C>(
  ...args: [string, Need[], Implementation<[]>] | [TestFn<C>, string, Need[], Implementation<[], C>]
): Promise<void> {
  const [testFn, title, needs, impl] = args.length === 4 ? args : [test as TestFn<C>, ...args];
  const why = reasonNow(needs);
  if (why) testFn.skip(`${title} [skipped: ${why}]`, impl);
  else testFn(title, impl);
}
