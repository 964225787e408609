// The evidence bundle of a non-clean serve case, as for every other case (bundle.ts): case.pcapng
// with the proving frames commented, case.json (the report, the generated server
// config and the server's log line) and hexdiff.txt around the first differing body byte.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServeObserved } from '../session/serve-session.ts';
import { responseStreams, type ServeCaseReport } from '../verdict/serve-report.ts';
import { hexDiff, wiresharkEvidence, writeEvidence, type EvidencePaths, type HexDiff } from './bundle.ts';
import { evidencePcap, focusOf } from './trimmed-pcap.ts';
import type { WiresharkPointers } from './wireshark.ts';

export type ServeCaseRecord = ServeCaseReport & { hexDiff?: HexDiff; wireshark?: WiresharkPointers; evidence?: EvidencePaths };

/** Writes the bundle of `report` under `runDir` when it is not clean; returns the report with its paths. */
export function serveEvidence(runDir: string, report: ServeCaseReport, o: ServeObserved): ServeCaseRecord {
  if (report.verdict === 'clean') return report;
  const { run, wire } = o;
  const { header, intended, mutated } = responseStreams(run);
  const body = run.streams.body;
  const bodyOf = (a: Uint8Array) => a.subarray(Math.min(header, a.length));
  const w = report.wire.capture === 'captured' ? report.wire : null;
  const short = report.received.lengthDelta < 0 ? report.received.bytes : Infinity;
  const first = Math.min(report.received.firstOffset ?? Infinity, w?.firstOffset ?? Infinity, short);
  const diff = hexDiff(
    Number.isFinite(first) ? first : 0,
    body,
    wire ? bodyOf(wire.stream.bytes) : null,
    bodyOf(run.streams.received),
    run.streams.mutatedBody,
  );
  const dir = join(runDir, report.id);
  const full = (o2: number | null) => (o2 === null ? null : o2 + header);
  const pcap = wire && evidencePcap(
    wire.pcap,
    run.connection,
    wire.stream,
    focusOf(full(w?.firstOffset ?? null), full(report.received.firstOffset), wire.stream),
  );
  const summary = {
    id: report.id, kernel: report.kernel, method: `${report.serverVersion} (${report.setting})`, size: report.size,
    mutation: report.mutation, mutationRange: 'all',
    safeguard: 'mutated at its access-log line', receiverDelayMs: report.clientDelayMs, transport: report.transport, family: report.family,
    verdict: report.verdict, reasons: report.reasons,
  };
  const ws = pcap && wire && wiresharkEvidence(summary, {
    pcap: pcap.pcap, iface: wire.iface, connection: run.connection, intended, mutated,
    receivedFirstOffset: full(report.received.firstOffset),
    patternNote: `stream offset = relative tcp.seq - 1; the HTTP header is bytes [0,${header}); body byte b (stream offset ${header} + b): `
      + 'b % 251 + 1; the mutation writes that value XOR 0xff',
  });
  const record: ServeCaseRecord = { ...report, hexDiff: diff, ...(ws?.pointers ? { wireshark: ws.pointers } : {}) };
  const caseJson = {
    ...record,
    experiment: run.experiment,
    serverLog: run.logged?.line ?? null,
    ...(pcap ? { evidencePcap: pcap.record } : {}),
  };
  record.evidence = writeEvidence(dir, caseJson, diff, ws ?? undefined);
  if (o.arrived && report.link?.arrived) {
    mkdirSync(dir, { recursive: true });
    report.link.arrived.pcap = join(dir, 'arrived.pcap');
    writeFileSync(report.link.arrived.pcap, o.arrived.pcap);
  }
  return record;
}
