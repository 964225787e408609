// What a remote receiver adds to a case's record (ReceivedCase.remote): the agent's capture of
// what arrived, decoded here from the pcap records it sent, and the clock offset that puts the
// agent's timestamps on ours. Plain data; the verdict (case-report.ts) reads it.
import type { WireObservation } from '../../capture/wire.ts';
import type { ClockEstimate } from '../../model/clock.ts';

export interface RemoteArrival {
  /** "ADDR:PORT" of the agent's control channel */
  agent: string;
  /** the agent's capture of this connection, or null when it did not capture */
  observation: WireObservation | null;
  /** why the agent's capture of this case is missing (null: it captured, or capture is off) */
  captureError: string | null;
  /** the connection as the agent saw it (differs from ours only through NAT) */
  agentView: { src: string; srcPort: number; dst: string; dstPort: number };
  /** measured right after the case; receiver timestamps in the record are already on our clock */
  clock: ClockEstimate;
}
