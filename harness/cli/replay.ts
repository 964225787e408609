// zcprobe replay <report.json> <case-id> | <claim>:<seed>:<path>: re-runs one counterexample and
// compares the new verdict with the one on record.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatCaseLine } from '../verdict/case-report.ts';
import { parseReplay } from '../model/claims/index.ts';
import { defaultSenderCapture, makeExperiment, type Experiment, type SenderCapture } from '../model/experiment.ts';
import { Session } from '../session/session.ts';
import { flagValue, nonNegativeInt, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';
import { familyOf } from '../roles/agent/remote-transport.ts';
import { REMOTE_FLAGS, remoteFromFlags } from './remote-flags.ts';
import { replayedExperiment } from './run.ts';
import { judgeCase } from '../evidence/judge.ts';

const OPTIONS = {
  repeat: { type: 'string', value: '<n>', help: 'run it n times (default 3)' },
  json: { type: 'boolean', help: 'one JSON object per run' },
  ...REMOTE_FLAGS,
} satisfies FlagSpecs;

function fromReport(reportPath: string, caseId: string): { exp: Experiment; before: string; senderCapture?: SenderCapture } {
  if (!existsSync(reportPath)) throw new UsageError(`no such report: ${reportPath}`);
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { counterexamples?: { caseId: string; caseJson: string; verdict: string }[] };
  const cx = report.counterexamples?.find((c) => c.caseId === caseId);
  if (!cx) throw new UsageError(`case ${caseId} is not a counterexample in ${reportPath} (known: ${(report.counterexamples ?? []).map((c) => c.caseId).join(', ') || 'none'})`);
  type CaseJson = { experiment: Experiment; verdict: string; senderCapture?: SenderCapture };
  const caseJson = JSON.parse(readFileSync(join(dirname(reportPath), cx.caseJson), 'utf8')) as CaseJson;
  // The capture placement is part of the case: a tcpdump on the sending device changes zero-copy sends.
  const recorded = caseJson.senderCapture ? { senderCapture: caseJson.senderCapture } : {};
  return { exp: makeExperiment(caseJson.experiment), before: caseJson.verdict, ...recorded };
}

export const command = defineCommand({
  name: 'replay',
  usage: ['<report.json> <case-id>', '<claim>:<seed>:<path>'],
  options: OPTIONS,
  positionals: true,
  run: replay,
});

async function replay(flags: FlagValues<typeof OPTIONS>, positional: string[]): Promise<number> {
  let exp: Experiment;
  let before: string | null = null;
  let recorded: SenderCapture | undefined;
  if (positional.length === 2) ({ exp, before, senderCapture: recorded } = fromReport(positional[0]!, positional[1]!));
  else if (positional.length === 1) {
    let parsed;
    try {
      parsed = parseReplay(positional[0]!);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    exp = makeExperiment(replayedExperiment(parsed.claim, parsed.seed, parsed.path));
  } else throw new UsageError('needs <report.json> <case-id>, or <claim>:<seed>:<path>');
  const repeat = flagValue(flags, 'repeat', nonNegativeInt) ?? 3;
  if (repeat < 1) throw new UsageError('--repeat must be at least 1');
  // With an agent the case runs over its path (a remote counterexample needs one).
  const remote = remoteFromFlags(flags);
  if (remote) exp = makeExperiment({ ...exp, transport: 'remote', family: familyOf(remote) });
  const senderCapture = recorded ?? defaultSenderCapture(exp.method, exp.transport);
  const session = await Session.open({ transport: exp.transport, family: exp.family, fs: exp.fs, remote, senderCapture });
  const verdicts: string[] = [];
  try {
    for (let i = 0; i < repeat; i++) {
      const r = await judgeCase(session, exp);
      verdicts.push(r.verdict);
      process.stdout.write((flags.json ? JSON.stringify(r) : formatCaseLine(r)) + '\n');
    }
  } finally {
    await session.close();
  }
  const same = before === null ? null : verdicts.filter((v) => v === before).length;
  process.stdout.write(before === null ? `replayed ${repeat}×: ${verdicts.join(', ')}\n` : `on record: ${before}; now ${same}/${repeat} the same (${verdicts.join(', ')})\n`);
  return 0;
}
