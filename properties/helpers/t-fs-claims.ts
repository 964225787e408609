// Filesystem claims (model/claims/fs.ts) on one filesystem: universal checks fail the test; whether what arrives changed is a rate over
// a fixed fast-check sample (recorded, compared with the baseline), then the first change is shrunk and printed with where the receiver
// saw old, new and zero bytes relative to the mutation's range, a tally of every case and what the file itself holds afterwards.
import type { ExecutionContext, Implementation, TestFn } from 'ava';
import test from 'ava';
import { formatClasses, type ByteClasses } from '../../harness/verdict/byte-classes.ts';
import type { CaseReport } from '../../harness/verdict/case-report.ts';
import type { ExperimentPartial } from '../../harness/model/claims/index.ts';
import { FS_CLAIMS, type CaseCheck, type FsClaim } from '../../harness/model/claims/fs.ts';
import { openFilesystem } from '../../harness/world/fs/index.ts';
import { fsLeftovers } from '../../harness/world/fs/leftovers.ts';
import type { FsSpec } from '../../harness/model/fs-spec.ts';
import { mutationUnsupported } from '../../harness/case/mutations/index.ts';
import { resolveMutation } from '../../harness/model/mutation-spec.ts';
import { isCorrupted } from '../../harness/verdict/verdict.ts';
import { missingNeeds, type Need } from './requirements.ts';
import { harnessChildren } from './t-children.ts';
import { CORRUPTED } from '../../harness/model/baselines.ts';
import { sampleThenShrink } from '../../harness/suites/claim-runner.ts';
import { describe } from './t-claims.ts';
import { observe } from './t-observe.ts';
import { seedFromEnv, useSession, type SessionHandle } from './t-session.ts';

/** Bound on one claim's sample, per case (each takes 50–300 ms; 10 cases had 40 s); the shrinking
 * after it is bounded by fast-check's own limits. */
const MS_PER_CASE = 4_000;

/** A check's violation in one case, or null. */
export function violation(check: CaseCheck, r: CaseReport): string | null {
  const streams: [string, ByteClasses][] = [['received', r.received.classes]];
  if (r.wire.capture === 'captured' && r.wire.complete) streams.push(['wire', r.wire.classes]);
  for (const [name, c] of streams) {
    if (check === 'no-foreign' && c.bytes.other > 0) return `${name}: ${c.bytes.other} byte(s) are neither old, new nor zero`;
    const changed = c.ranges.filter((x) => x.class !== 'old');
    if (check === 'old-everywhere' && changed.length) return `${name}: ${changed.map((x) => `${x.class} [${x.start},${x.end})`).join(' ')} — expected every byte old`;
    if (check === 'unchanged-outside') {
      const outside = changed.filter((x) => !r.mutationChanges.changes.some((ch) => x.start >= ch.start && x.end <= ch.end));
      if (outside.length) return `${name}: ${outside.map((x) => `${x.class} [${x.start},${x.end})`).join(' ')} lies outside the mutation's range ${JSON.stringify(r.mutationChanges.changes)}`;
    }
  }
  return null;
}

/** A boundary named relative to the mutation: off, off+len, end, or one of them rounded to a
 * power-of-two block (⌈off⌉4K = off rounded up to 4 KiB), else the number. */
function boundaryName(b: number, off: number, end: number, size: number): string {
  if (b === 0) return '0';
  if (b === size) return 'end';
  for (const [name, p] of [['off', off], ['off+len', end]] as const) {
    if (b === p) return name;
    for (let k = 12; k <= 21; k++) {
      const unit = 1 << k;
      const label = unit >= 1 << 20 ? `${unit >> 20}M` : `${unit >> 10}K`;
      if (b > p && b === Math.ceil(p / unit) * unit && b - p < unit) return `⌈${name}⌉${label}`;
      if (b < p && b === Math.floor(p / unit) * unit && p - b < unit) return `⌊${name}⌋${label}`;
    }
  }
  return String(b);
}

/** "old[0,off) zero[off,⌈off⌉4K) old[⌈off⌉4K,end)": where the received bytes are what, relative
 * to the mutation's range, so cases of different sizes with the same behaviour read the same. */
export function shapeOf(r: CaseReport, classes: ByteClasses = r.received.classes): string {
  const m = resolveMutation(r.mutation, r.size, r.mutationRange === 'first-half');
  const n = (b: number) => boundaryName(b, m.offset, Math.min(r.size, m.offset + m.length), r.size);
  const shown = classes.ranges.map((x) => `${x.class}[${n(x.start)},${n(x.end)})`).join(' ');
  return shown + (classes.omittedRanges ? ` …(+${classes.omittedRanges})` : '');
}

const fileShape = (r: CaseReport): string => (r.fileAfter ? shapeOf(r, r.fileAfter) : 'not read');

function arrivals(cases: CaseReport[]): string[] {
  const rows = new Map<string, number>();
  for (const c of cases) {
    const key = `${c.method.padEnd(8)} ${c.verdict.padEnd(22)} ${shapeOf(c)}`;
    rows.set(key, (rows.get(key) ?? 0) + 1);
  }
  return [...rows].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, n]) => `${String(n).padStart(3)}× ${k}`);
}

export async function runFsClaim(t: ExecutionContext, session: SessionHandle, claim: FsClaim, fs: FsSpec): Promise<void> {
  const numRuns = claim.numRuns;
  const seed = seedFromEnv();
  const broken: string[] = [];
  const seen = new Map<CaseCheck, string[]>(claim.observed.map((c) => [c, []]));
  const onCase = (partial: ExperimentPartial, r: CaseReport) => {
    for (const check of claim.universal) {
      const v = violation(check, r);
      if (v) broken.push(`${describe(partial)} → ${r.verdict}: ${v}${r.evidence ? ` [evidence ${r.evidence.dir}]` : ''}`);
    }
    for (const check of claim.observed) {
      const v = violation(check, r);
      const file = r.fileAfter ? formatClasses(r.fileAfter) : 'not read';
      if (v) seen.get(check)!.push(`${describe(partial)} → ${r.verdict}: ${v}; the file itself: ${file}`);
    }
  };
  const changed = (r: CaseReport) => isCorrupted(r.verdict);
  // a harness error proves nothing either way: sampleThenShrink keeps it, and the test fails with it below
  const timeLimitMs = numRuns * MS_PER_CASE;
  const s = await sampleThenShrink((p) => session.run(p), claim.experiments, { seed, numRuns, proves: changed, timeLimitMs, onCase });
  const cases = s.cases;
  const sample = s.sample.map((x) => x.report);
  const inconclusive = cases.filter((c) => c.verdict === 'inconclusive');
  for (const c of inconclusive) t.log(`inconclusive ${c.id}: ${c.reasons.join('; ')}`);
  if (s.error)
    return t.fail(`${fs}: ${claim.id}: the harness failed (seed ${seed}), which proves nothing: ${s.error.stack ?? s.error.message}`);
  const conclusive = sample.filter((c) => c.verdict !== 'inconclusive');
  if (sample.length > 0 && !conclusive.length)
    return t.fail(`${fs}: ${claim.id}: every one of the ${sample.length} sampled cases was inconclusive: this host could not tell`);
  t.deepEqual(broken, [], `universal checks (${claim.universal.join(', ')}) must hold in every case`);
  const rate = { seen: conclusive.filter(changed).length, runs: conclusive.length };
  const cut = s.interrupted ? ` (the sample stopped at the ${timeLimitMs / 1000} s bound)` : '';
  const tally = `${rate.seen} of ${rate.runs} conclusive cases changed what arrived${cut}`;
  t.log(`${fs}: "${claim.statement}"`);
  const observation = {
    id: `${claim.id}@${fs}`, statement: `${claim.statement} (${fs})`, event: CORRUPTED, ...rate, transport: 'loopback',
  };
  if (s.counterexample) {
    const { experiment: min, failing, shrinks, path } = s.counterexample;
    t.log(`  observed: FALSIFIED — ${tally}; shrunk ${shrinks}× to ${describe(min)}`);
    t.log(`  minimal case → ${failing.verdict}: received ${shapeOf(failing)}; evidence ${failing.evidence?.dir ?? 'none'}`);
    t.log(`  replay: npx zcprobe run --replay ${claim.id}:${seed}:${path} --fs ${fs}`);
    observe(t, { ...observation, detail: `${tally}; minimal case ${describe(min)} → ${failing.verdict}, received ${shapeOf(failing)}` });
  } else {
    observe(t, { ...observation, detail: tally });
    t.log(`  observed: held in ${rate.runs} conclusive cases${cut} (seed ${seed})`);
  }
  t.log(`  what arrived (count, method, verdict, received bytes relative to the mutation's range):\n    ${arrivals(cases).join('\n    ')}`);
  for (const [check, hits] of seen)
    t.log(`  ${check}: ${hits.length ? `NOT so in ${hits.length}/${cases.length} cases, e.g.\n    ${hits.slice(0, 3).join('\n    ')}` : `so in all ${cases.length} cases`}`);
  const files = new Map<string, number>();
  for (const c of cases) if (c.fileAfter) files.set(fileShape(c), (files.get(fileShape(c)) ?? 0) + 1);
  t.log(`  the file afterwards (read through its name):\n    ${[...files].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, n]) => `${String(n).padStart(3)}× ${k}`).join('\n    ')}`);
}

/** Which mutations the filesystem supports, probed on a filesystem opened just for that (before
 * any test is declared: ava needs declarations synchronously after this). */
async function supportOn(fs: FsSpec): Promise<Map<string, string | null>> {
  const opened = await openFilesystem(fs);
  try {
    return new Map(Object.values(FS_CLAIMS).map((c) => [c.id, mutationUnsupported(c.mutation, opened.workDir)]));
  } finally {
    await opened.close();
  }
}

/** Declares every filesystem claim for `fs` in the calling test file. */
export async function declareFsClaims(fs: FsSpec, needs: Need[]): Promise<void> {
  const missing = await missingNeeds(needs);
  const support = missing ? null : await supportOn(fs);
  const serial = test.serial as unknown as TestFn;
  const session = missing
    ? null
    : useSession(test, { transport: 'loopback', family: 4, fs }, (t) => {
        t.deepEqual(harnessChildren(), [], 'no child process left');
        t.deepEqual(fsLeftovers([process.pid]), { mounts: [], loopDevices: [], dirs: [] }, 'no mount, loop device or image left');
      });
  for (const claim of Object.values(FS_CLAIMS)) {
    const title = `${fs}: ${claim.id} — ${claim.statement}`;
    const impl: Implementation<[]> = (t) => runFsClaim(t, session!, claim, fs);
    const why = missing ?? support?.get(claim.id);
    if (why) test.skip(`${title} [skipped: ${why}]`, impl);
    else serial(title, impl);
  }
}
