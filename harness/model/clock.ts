// The agent's clock relative to ours, from four timestamps per exchange as NTP does: offset θ within ±δ/2, δ the round trip;
// the sample with the smallest δ is kept and δ/2 is the stated uncertainty (docs/two-machines.md).

/** One exchange, every time in epoch ms (performance.timeOrigin + performance.now()). */
export interface ClockSample {
  t1: number;
  t2: number;
  t3: number;
}

export interface ClockEstimate {
  /** agent clock − our clock, ms: subtract it from an agent timestamp to get ours */
  offsetMs: number;
  /** the true offset is within offsetMs ± uncertaintyMs (half the best sample's round trip,
   * plus the timestamps' resolution) */
  uncertaintyMs: number;
  /** the best sample's network round trip, ms */
  rttMs: number;
  samples: number;
  /** when (our clock) the best sample was taken */
  measuredAt: number;
}

/** Epoch-ms doubles resolve ~0.24 µs, and θ sums four of them: a floor on any uncertainty. */
export const TIMESTAMP_RESOLUTION_MS = 0.001;

export function offsetOf(s: ClockSample, t4: number): { offsetMs: number; rttMs: number } {
  return { offsetMs: (s.t2 - s.t1 + (s.t3 - t4)) / 2, rttMs: t4 - s.t1 - (s.t3 - s.t2) };
}

/** The estimate from the sample with the smallest round trip; throws if none is usable. */
export function estimateOffset(samples: { sample: ClockSample; t4: number }[]): ClockEstimate {
  let best: { offsetMs: number; rttMs: number; at: number } | null = null;
  for (const { sample, t4 } of samples) {
    const o = offsetOf(sample, t4);
    // A negative round trip (beyond rounding) means a clock stepped during the exchange.
    if (!(o.rttMs >= -TIMESTAMP_RESOLUTION_MS) || !Number.isFinite(o.offsetMs)) continue;
    o.rttMs = Math.max(0, o.rttMs);
    if (!best || o.rttMs < best.rttMs) best = { ...o, at: sample.t1 };
  }
  if (!best) throw new Error(`no usable clock sample among ${samples.length}`);
  return {
    offsetMs: best.offsetMs,
    uncertaintyMs: best.rttMs / 2 + TIMESTAMP_RESOLUTION_MS,
    rttMs: best.rttMs,
    samples: samples.length,
    measuredAt: best.at,
  };
}

/** An agent timestamp on our clock. */
export function toLocalMs(agentMs: number, clock: Pick<ClockEstimate, 'offsetMs'>): number {
  return agentMs - clock.offsetMs;
}
