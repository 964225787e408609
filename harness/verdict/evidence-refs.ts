// The parts of a case report that point at its evidence: the hex diff around the first mismatch,
// the bundle's paths and the Wireshark pointers. Plain data; harness/evidence/ fills them in.

export interface HexDiff {
  offset: number;
  intended: string;
  wire: string | null;
  received: string;
  /** what the source holds there after the mutation (M): new bytes, zeros, or the old ones */
  mutated?: string;
}

export interface EvidencePaths {
  dir: string;
  /** the case's packets (case.pcapng, the one packet file of a bundle); null without a capture */
  pcap: string | null;
  /** the same file: its frame comments say why each proving frame is there */
  pcapng: string | null;
  /** remote runs: the agent's capture of what arrived (pcap is the sender's, what left) */
  arrivalPcap?: string;
  caseJson: string;
  hexDiff: string;
}

export interface WiresharkPointers {
  /** paste into Wireshark's display filter bar with case.pcapng open */
  filter: string;
  /** every frame the filter selects, ascending */
  frames: number[];
  /** the first frame whose bytes differ from the intended stream */
  firstMutatedFrame?: number;
  /** retransmissions whose bytes differ from the first transmission */
  conflictFrames?: number[];
  /** the frames that first carried those bytes, pairwise with conflictFrames (also selected, so
   * both versions can be compared) */
  conflictFirstFrames?: number[];
  /** the wire carried the intended bytes here, yet the receiver read others from this offset on */
  receiverDiffFrame?: number;
}
