// Data model of the report's "Real servers" section (rendered by servers.ts; built from zcprobe serve
// cases): server + version × setting × mutation cells, a recommendation per server, counterexamples.
import type { Verdict as CaseVerdict } from '../verdict/verdict.ts';
import type { CellTally } from './fs-types.ts';

export interface ServerCell extends CellTally {
  server: string;
  /** "nginx/1.22.1" */
  version: string;
  /** as given to --set ("sendfile=on"), or "defaults" */
  setting: string;
  mutation: string;
  /** where the client's body bytes were not the old ones, with how many cases showed it */
  received: { shape: string; cases: number }[];
  /** cases whose access-log line was there before the last body byte left */
  loggedBeforeLastByte: number;
  /** median harness time per case beyond the client's delay, ms */
  harnessMsMedian: number | null;
}

export interface ServerRecommendation {
  server: string;
  version: string;
  /** one generated line: which ways of updating a served file were safe under which setting */
  rule: string;
  /** mutations clean in every case, with the settings they held under */
  safe: { mutation: string; settings: string[] }[];
  /** mutations with a corrupted case under a setting, and the case that shows it */
  unsafe: { mutation: string; setting: string; headline: string; counterexample: string | null }[];
  /** neither: skipped, or no corrupted case but some inconclusive */
  unproven: { mutation: string; setting: string; why: string }[];
}

type TimelinePoint = 'loggedMs' | 'logSeenMs' | 'mutatedMs' | 'firstMutatedPacketMs' | 'lastBodyPacketMs' | 'clientFirstReadMs';

export interface ServerCounterexample {
  caseId: string;
  server: string;
  version: string;
  setting: string;
  mutation: string;
  verdict: CaseVerdict;
  size: number;
  clientDelayMs: number;
  rcvbuf: number | null;
  /** 64 bytes of each body stream around the first difference (body offsets) */
  hexDiff: { offset: number; intended: string; wire: string | null; received: string };
  /** ms after the client connected; null when it did not happen or was not seen */
  timeline: Record<TimelinePoint, number | null>;
  /** paths relative to the report directory */
  pcap: string | null;
  caseJson: string;
  wireshark?: { pcapng: string; filter: string };
  /** the command that runs the case again */
  command: string;
}

export interface ServersSection {
  /** how the cases ran: size, client delay, receive buffer, transport, filesystem, repeats */
  plan: string;
  servers: { name: string; version: string; package: string }[];
  cells: ServerCell[];
  recommendations: ServerRecommendation[];
  counterexamples: ServerCounterexample[];
  /** servers or settings the host could not run, with the probe's or the server's reason */
  skipped: { server: string; setting: string; mutation: string; reason: string }[];
}
