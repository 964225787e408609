// A case from run to judgement: the session observes it, the verdict decides it, and a case that
// is not clean leaves its evidence bundle in the session's run directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WireObservation } from '../capture/wire.ts';
import type { Experiment } from '../model/experiment.ts';
import type { CaseObservation, Session } from '../session/session.ts';
import { toCaseReport, type CaseReport } from '../verdict/case-report.ts';
import { linkReport } from '../verdict/link-facts.ts';
import { hexDiff, wiresharkEvidence, writeEvidence } from './bundle.ts';
import { evidencePcap, focusOf } from './trimmed-pcap.ts';

/** Runs one case; writes its evidence bundle when it is not clean. */
export async function judgeCase(session: Session, exp: Experiment): Promise<CaseReport> {
  return (await judgeCaseObserved(session, exp)).report;
}

/** judgeCase(), plus the capture's view of the case (tests cross-check it with tshark). */
export async function judgeCaseObserved(session: Session, exp: Experiment): Promise<{ report: CaseReport; wire?: WireObservation }> {
  const observation = await session.observe(exp);
  const report = judge(observation);
  if (report.verdict !== 'clean') writeCaseEvidence(report, observation);
  return { report, wire: observation.wire };
}

/** The verdict of an observed case, with both ends of its path. */
export function judge({ run, wire, wireBy, senderCapture, arrived, linkFacts, hosts }: CaseObservation): CaseReport {
  const link = linkFacts && linkReport(run.connection, run.streams.intended, run.streams.mutated, wire, arrived, linkFacts);
  const report = toCaseReport(run, wire, link);
  report.hosts = hosts;
  report.senderCapture = senderCapture;
  // --sender-capture off over veth/nic: W is what the receiving side's capture saw arrive.
  if (wireBy === 'receiver' && report.wire.capture === 'captured') report.wire.capturedBy = 'receiver';
  return report;
}

/** captures/<run-id>/<case-id>/: the hex diff, the trimmed pcap(ng), case.json; sets report.evidence. */
export function writeCaseEvidence(report: CaseReport, { run, wire, arrived, runDir }: CaseObservation): void {
  // Remote runs: W is what arrived at the agent; the sender's capture is case.pcap, the
  // agent's arrival.pcap.
  const arrival = run.receiver.remote?.observation ?? null;
  const shown = arrival ?? wire;
  const w = report.wire.capture === 'captured' ? report.wire : null;
  // A stream that only ended early has no differing byte: show where it ended.
  const short = report.received.lengthDelta < 0 ? report.received.bytes : Infinity;
  const first = Math.min(report.received.firstOffset ?? Infinity, w?.firstOffset ?? Infinity, short);
  const streams = run.streams;
  report.hexDiff = hexDiff(Number.isFinite(first) ? first : 0, streams.intended, shown ? shown.stream.bytes : null, streams.received, streams.mutated);
  const dir = join(runDir, report.id);
  // Very large cases keep whole frames only around what differs (policy recorded in case.json).
  const focus = wire && focusOf(w?.firstOffset ?? null, report.received.firstOffset, wire.stream);
  const pcap = wire && focus && evidencePcap(wire.pcap, run.connection, wire.stream, focus);
  const mark = pcap && wire && { pcap: pcap.pcap, iface: wire.iface, connection: run.connection, ...streams, receivedFirstOffset: report.received.firstOffset };
  const ws = mark ? wiresharkEvidence(report, mark) : null;
  if (ws?.pointers) report.wireshark = ws.pointers;
  const arrivalPcap = arrival ? join(dir, 'arrival.pcap') : null;
  const caseJson = { ...report, evidence: undefined, experiment: run.experiment, arrivalPcap, ...(pcap ? { evidencePcap: pcap.record } : {}) };
  report.evidence = writeEvidence(dir, caseJson, report.hexDiff, pcap?.pcap ?? null, ws ?? undefined);
  if (arrival && arrivalPcap) {
    writeFileSync(arrivalPcap, arrival.pcap);
    report.evidence.arrivalPcap = arrivalPcap;
  }
  // tun: the receiver side's capture joins the bundle: what reached the receiving kernel.
  if (arrived && report.link?.arrived) {
    mkdirSync(dir, { recursive: true });
    report.link.arrived.pcap = join(dir, 'arrived.pcap');
    writeFileSync(report.link.arrived.pcap, arrived.pcap);
  }
}
