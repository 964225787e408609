// The evidence bundle of one connection of a wrapped program (captures/<run-id>/conn-<n>/), the same
// files as a case's: case.pcapng (the packets, comments on the frames that prove the verdict), case.json
// (the connection's report, findings with their backtraces) and hexdiff.txt (I, M = what the program
// wrote there, W, R around the first changed byte), plus the shim's own log for that process.
import { copyFileSync, existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { ShimConnection } from '../capture/shim-streams.ts';
import type { WrapConnectionRun } from '../session/wrap-run.ts';
import type { WrapConnectionReport } from '../verdict/wrap-verdict.ts';
import { hexDiff, wiresharkEvidence, writeEvidence, type EvidencePaths } from './bundle.ts';
import { evidencePcap, focusOf } from './trimmed-pcap.ts';

export interface WrapEvidence extends EvidencePaths {
  shimLog: string | null;
}

export function writeWrapEvidence(
  dir: string,
  r: WrapConnectionReport,
  run: WrapConnectionRun,
  shim: ShimConnection | null,
  command: string[],
): WrapEvidence {
  const s = r.streams!;
  const w = r.wire.capture === 'captured' ? r.wire : null;
  const short = r.received.lengthDelta < 0 ? r.received.bytes : Infinity;
  // where the bytes first differ; a latent finding (nothing differs) shows where it wrote
  const differs = Math.min(r.received.firstOffset ?? Infinity, w?.firstOffset ?? Infinity, short);
  const first = Number.isFinite(differs) ? differs : (r.findings[0]?.range.start ?? 0);
  const diff = hexDiff(first, s.intended, run.wire ? run.wire.stream.bytes : null, s.received, s.mutatedWire);
  const obs = run.wire;
  const focus = obs && focusOf(w?.firstOffset ?? null, r.received.firstOffset, obs.stream);
  const pcap = obs && evidencePcap(obs.pcap, run.connection, obs.stream, focus!);
  const summary = {
    id: `conn-${r.connection}`, kernel: release(), method: `wrap: ${command.join(' ')}`, size: s.intended.length,
    mutation: 'whatever the program wrote', mutationRange: 'in flight', safeguard: 'the program\'s own', receiverDelayMs: r.client.delayMs,
    transport: r.tuple.src.includes(':') ? 'IPv6' : 'IPv4',
    family: r.tuple.src.includes(':') ? 6 : 4, verdict: `${r.verdict} (${r.outcome})`, reasons: r.reasons,
  };
  const ws = pcap && obs ? wiresharkEvidence(summary, {
    pcap: pcap.pcap, iface: obs.iface, connection: run.connection, intended: s.intended, mutated: s.mutatedWire,
    receivedFirstOffset: r.received.firstOffset, application: 'zcprobe wrap',
    patternNote: 'stream offset = relative tcp.seq - 1; I = the bytes at each send call as the shim saw them ' +
      '(case.json findings: who changed them, with file:line)',
  }) : undefined;
  const { streams: _s, ...json } = r;
  const paths = writeEvidence(dir, { ...json, command, ...(pcap ? { evidencePcap: pcap.record } : {}) }, diff, ws);
  let shimLog: string | null = null;
  if (shim && existsSync(`${shim.log.prefix}.log`)) {
    shimLog = join(dir, 'shim.log');
    copyFileSync(`${shim.log.prefix}.log`, shimLog);
  }
  return { ...paths, shimLog };
}
