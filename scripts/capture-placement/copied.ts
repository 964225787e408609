// Counts zero-copy completions reported COPIED over veth with a native XDP_PASS program on the
// receiving peer (so veth hands frames on without skb_copy_ubufs), for one capture placement.
// usage: copied.ts sender|arrival|none PIN_PATH N METHOD (run by measure.sh)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeCase } from '../../harness/evidence/judge.ts';
import { Session } from '../../harness/session/session.ts';
import { makeExperiment, type Method } from '../../harness/model/experiment.ts';

const [placement, pin, n, method] = process.argv.slice(2) as [string, string, string, Method];
// Evidence of inconclusive cases (tcpdump drops) is not what this measures: it goes to a scratch dir, removed at the end.
const runDir = mkdtempSync(join(tmpdir(), 'zcprobe-placement-'));
const s = await Session.open({
  transport: 'veth', family: 4, capture: placement !== 'none', senderCapture: placement === 'arrival' ? 'off' : 'on', runDir,
}).catch((e: unknown) => {
  rmSync(runDir, { recursive: true, force: true });
  throw e;
});
const m = /-> (\S+)\/(\S+) /.exec(s.transport.describe);
if (!m) throw new Error(`cannot find the veth peer in "${s.transport.describe}"`);
const [netns, peer] = [m[1]!, m[2]!];
try {
  execFileSync('ip', ['-n', netns, 'link', 'set', 'dev', peer, 'xdpdrv', 'pinned', pin], { timeout: 10_000 });
  let copied = 0, completions = 0;
  const verdicts: Record<string, number> = {};
  for (let i = 0; i < Number(n); i++) {
    const r = await judgeCase(s, makeExperiment({ method, transport: 'veth', family: 4, size: 1 << 20, safeguard: 'zc-completion' }));
    copied += r.zerocopy?.copied ?? 0;
    completions += r.zerocopy?.received ?? 0;
    verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
  }
  const line = `${method}, capture ${placement}: ${copied}/${completions} completions COPIED (${s.captureLine})`;
  process.stdout.write(`${line}; verdicts ${JSON.stringify(verdicts)}\n`);
} finally {
  await s.close(); // the veth pair goes, and the XDP program with it
  rmSync(runDir, { recursive: true, force: true });
}
