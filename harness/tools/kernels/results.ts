// What one kernel's run left in its directory (scripts/kernels/suite.sh's layout), read back for
// the comparison: doctor's probes, the report, the TAP summary, the recorded observations.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseObservations, type RecordedObservation } from '../../model/baselines.ts';
import type { Probe } from '../../world/probes.ts';
import type { Report } from '../../report/types.ts';
import { assertValidReport } from '../../report/validate.ts';
import type { KernelRun } from './runner.ts';
import { parseTap, type TapSummary } from './tap.ts';

export interface KernelResults {
  run: KernelRun;
  /** uname -r as the suite saw it (the guest's own), else the resolved release */
  kernel: string;
  probes?: Probe[];
  report?: Report;
  tap?: TapSummary;
  observations?: RecordedObservation[];
  steps: { name: string; status: number; seconds: number }[];
  /** results that were there but could not be read */
  problems: string[];
}

function readIf(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

export function loadKernelResults(run: KernelRun): KernelResults {
  const d = run.dir;
  const problems: string[] = [];
  const out: KernelResults = { run, kernel: readIf(join(d, 'kernel'))?.trim() || run.release, steps: [], problems };
  const doctor = readIf(join(d, 'doctor.json'));
  if (doctor) {
    try {
      out.probes = JSON.parse(doctor) as Probe[];
    } catch (e) {
      problems.push(`doctor.json: ${(e as Error).message}`);
    }
  }
  const report = readIf(join(d, 'report', 'report.json'));
  if (report) {
    try {
      const data: unknown = JSON.parse(report);
      assertValidReport(data);
      out.report = data as Report;
    } catch (e) {
      problems.push(`report.json: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const tap = readIf(join(d, 'tap.txt'));
  if (tap) out.tap = parseTap(tap);
  const obs = readIf(join(d, 'observations.jsonl'));
  if (obs) out.observations = parseObservations(obs, join(d, 'observations.jsonl'));
  for (const line of (readIf(join(d, 'steps.tsv')) ?? '').split('\n').filter(Boolean)) {
    const [name, status, seconds] = line.split('\t');
    out.steps.push({ name: name!, status: Number(status), seconds: Number(seconds) });
  }
  return out;
}
