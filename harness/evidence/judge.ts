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
import type { BundleChoice, BundlePolicy } from './bundle-policy.ts';
import { evidencePcap, focusOf, PROOF_ONLY_POLICY } from './trimmed-pcap.ts';

/** Runs one case; writes its evidence bundle when it is not clean (reduced when `bundles` says so). */
export async function judgeCase(session: Session, exp: Experiment, bundles?: BundlePolicy): Promise<CaseReport> {
  return (await judgeCaseObserved(session, exp, bundles)).report;
}

/** judgeCase(), plus the capture's view of the case (tests cross-check it with tshark). */
export async function judgeCaseObserved(
  session: Session, exp: Experiment, bundles?: BundlePolicy,
): Promise<{ report: CaseReport; wire?: WireObservation }> {
  const observation = await session.observe(exp);
  const report = judge(observation);
  if (report.verdict !== 'clean') writeCaseEvidence(report, observation, bundles?.decide(report) ?? { full: true });
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

/** captures/<run-id>/<case-id>/: the hex diff, case.pcapng, case.json; sets report.evidence. A reduced bundle (`bundle.full`
 * false) cuts every packet file to the frames carrying the focus offsets (the proving frames) and the headers of the rest. */
export function writeCaseEvidence(
  report: CaseReport, { run, wire, arrived, runDir }: CaseObservation, bundle: BundleChoice = { full: true },
): void {
  // Remote runs: W is what arrived at the agent; the sender's capture is case.pcapng, the agent's arrival.pcap. Without
  // the sender's (--sender-capture off) the agent's is the bundle's case.pcapng, with the comments.
  const agent = run.receiver.remote?.observation ?? null;
  const shown = agent ?? wire;
  const arrival = wire ? agent : null;
  wire ??= agent ?? undefined;
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
  // The proving frames are found in the policy's pcap; a reduced bundle writes the same records cut to them.
  const kept = !bundle.full && wire && focus ? evidencePcap(wire.pcap, run.connection, wire.stream, focus, PROOF_ONLY_POLICY) : pcap;
  const mark = pcap && wire && { pcap: pcap.pcap, iface: wire.iface, connection: run.connection, ...streams, receivedFirstOffset: report.received.firstOffset };
  const ws = mark ? wiresharkEvidence(report, mark, kept ? kept.pcap : undefined) : null;
  if (ws?.pointers) report.wireshark = ws.pointers;
  // Other captures of the case, cut the same way in a reduced bundle.
  const cut = (obs: WireObservation) =>
    (bundle.full || !focus ? obs.pcap : evidencePcap(obs.pcap, run.connection, obs.stream, focus, PROOF_ONLY_POLICY).pcap);
  const arrivalPcap = arrival ? join(dir, 'arrival.pcap') : null;
  const caseJson = {
    ...report, evidence: undefined, experiment: run.experiment, arrivalPcap, ...(kept ? { evidencePcap: kept.record } : {}),
    bundle: bundle.full ? 'full' : `reduced: the first ${report.verdict} case of this cell (${bundle.fullBundleCase}) has the full bundle`,
  };
  report.evidence = writeEvidence(dir, caseJson, report.hexDiff, ws ?? undefined);
  if (arrival && arrivalPcap) {
    writeFileSync(arrivalPcap, cut(arrival));
    report.evidence.arrivalPcap = arrivalPcap;
  }
  // tun: the receiver side's capture joins the bundle: what reached the receiving kernel.
  if (arrived && report.link?.arrived) {
    mkdirSync(dir, { recursive: true });
    report.link.arrived.pcap = join(dir, 'arrived.pcap');
    writeFileSync(report.link.arrived.pcap, cut(arrived));
  }
}
