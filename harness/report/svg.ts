// Hand-written inline SVG (no chart library, no script): the safeguard cost chart and a counterexample's timeline; every string
// goes through esc(). No xmlns: inside HTML the parser puts <svg> in the SVG namespace, so the report holds no URL at all.
import { VERDICT_STYLE } from './legend.ts';
import { byMethod, bySafeguard, type Counterexample, type CostRow, type MatrixCell } from './types.ts';

/** Escapes text and attribute values (both quote kinds, so any attribute quoting is safe). */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds to at most `digits` decimals without trailing zeros: 0.38, 47.3, 1834. */
export function num(x: number, digits = 2): string {
  return String(Number(x.toFixed(digits)));
}

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';

/**
 * One horizontal bar per cost row (method × safeguard), length = throughput / throughput of the
 * same method with the 'copy' safeguard. The bar takes the matrix verdict's colour, so a fast
 * safeguard that corrupts stands out as red rather than as a win.
 */
export function costChart(rows: readonly CostRow[], cells: readonly MatrixCell[], width = 1180): string {
  if (!rows.length) return '';
  const sorted = [...rows].sort((a, b) => byMethod(a.method, b.method) || bySafeguard(a.safeguard, b.safeguard));
  const label = 250;
  const valueText = 300;
  const barArea = width - label - valueText;
  const max = Math.max(1, ...sorted.map((r) => r.ratioVsCopy));
  const x = (ratio: number) => label + (ratio / max) * barArea;
  const rowH = 22;
  const groupGap = 8;
  const top = 26;
  let y = top;
  let prev = '';
  const parts: string[] = [];
  for (const r of sorted) {
    if (prev && r.method !== prev) y += groupGap;
    prev = r.method;
    const cell = cells.find((c) => c.method === r.method && c.safeguard === r.safeguard && c.transport === r.transport);
    const style = cell ? VERDICT_STYLE[cell.verdict] : { ink: '#7b8794', fill: '#eee' };
    const verdict = cell ? cell.verdict : 'not in the matrix';
    const t = r.throughputMBps;
    parts.push(
      `<g><title>${esc(`${r.method} × ${r.safeguard}: ${num(r.ratioVsCopy)}× copy; ${num(t.median, 0)} MB/s (${num(t.min, 0)}–${num(t.max, 0)}); sender CPU ${num(r.senderCpuMsPerGB.median, 0)} ms/GB; matrix verdict ${verdict}`)}</title>` +
        `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${esc(r.method)} <tspan fill="#555">· ${esc(r.safeguard)}</tspan></text>` +
        `<rect x="${label}" y="${y + 3}" width="${num(Math.max(1, x(r.ratioVsCopy) - label), 1)}" height="${rowH - 6}" fill="${style.ink}" rx="2"/>` +
        `<text x="${num(x(r.ratioVsCopy) + 6, 1)}" y="${y + 15}"><tspan font-weight="600">${esc(num(r.ratioVsCopy))}×</tspan>` +
        `<tspan fill="#555"> · ${esc(num(t.median, 0))} MB/s · ${esc(num(r.senderCpuMsPerGB.median, 0))} ms CPU/GB</tspan></text></g>`,
    );
    y += rowH;
  }
  const height = y + 12;
  const one = num(x(1), 1);
  // The 1× line is the price of copying: bars to its right are cheaper than a copy.
  const ref =
    `<line x1="${one}" y1="${top - 6}" x2="${one}" y2="${y + 4}" stroke="#222" stroke-dasharray="4 3"/>` +
    `<text x="${one}" y="${top - 10}" text-anchor="middle" fill="#222">copy = 1×</text>` +
    `<line x1="${label}" y1="${top - 4}" x2="${label}" y2="${y + 4}" stroke="#999"/>`;
  return `<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ${FONT}>${ref}${parts.join('')}</svg>`;
}

interface TimeScale {
  x: (ms: number) => number;
  ticks: number[];
  name: string;
}

/** 1, 2, 5 × 10^k steps giving about `n` ticks from 0 to max. */
function linearTicks(max: number, n = 6): number[] {
  const raw = max / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= max * 1.0001; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

/**
 * Events can be 0.4 / 0.6 / 1 ms apart (linear reads best) or 0.05 / 2 / 47 ms (only a log scale
 * separates them), so both are tried and the one whose closest pair of events is furthest apart
 * in pixels wins.
 */
function timeScale(events: number[], x0: number, x1: number): TimeScale {
  const maxMs = Math.max(0.1, ...events) * 1.12;
  const positive = events.filter((e) => e > 0);
  const unit = Math.max(positive.length ? Math.min(...positive) / 4 : 0.01, maxMs / 1e5);
  const f = (ms: number) => Math.log1p(Math.max(0, ms) / unit);
  const lin: TimeScale = { x: (ms) => x0 + (Math.max(0, ms) / maxMs) * (x1 - x0), ticks: linearTicks(maxMs), name: 'linear' };
  const decades = [0, ...[-3, -2, -1, 0, 1, 2, 3, 4, 5].map((k) => 10 ** k).filter((t) => t >= unit && t <= maxMs)];
  const log: TimeScale = { x: (ms) => x0 + (f(ms) / f(maxMs)) * (x1 - x0), ticks: decades, name: 'log scale' };
  const minGap = (sc: TimeScale) => {
    const xs = [0, ...events].map(sc.x).sort((a, b) => a - b);
    return Math.min(Infinity, ...xs.slice(1).map((v, i) => v - xs[i]!));
  };
  return minGap(lin) >= minGap(log) ? lin : log;
}

/**
 * send started → send returned → source mutated → first packet carrying mutated bytes →
 * receiver's first read. One lane per event so labels never overlap; a missing event (no
 * mutated packet: the corruption happened after the wire) is stated in words in its lane.
 */
export function timelineSvg(t: Counterexample['timeline'], width = 1180): string {
  const events: { label: string; ms: number | null; colour: string; missing: string }[] = [
    { label: 'send returned', ms: t.sendReturnedMs, colour: '#333', missing: '' },
    { label: 'source mutated', ms: t.mutatedMs, colour: '#8f2b80', missing: '' },
    { label: 'first packet with mutated bytes', ms: t.firstMutatedPacketMs, colour: VERDICT_STYLE['corrupted-on-wire'].ink, missing: 'no packet carried mutated bytes (the wire was clean)' },
    { label: "receiver's first read", ms: t.receiverFirstReadMs, colour: '#1f5fbf', missing: 'the receiver read nothing' },
    // tun: what the link injected (a lane each, the first few)
    ...(t.linkEvents ?? []).slice(0, 4).map((e) => ({ label: e.label, ms: e.ms, colour: '#6b6b00', missing: '' })),
  ];
  const known = events.flatMap((e) => (e.ms === null ? [] : [e.ms]));
  const x0 = 20;
  const x1 = width - 20;
  const { x, ticks, name } = timeScale(known, x0, x1);
  const lane = 20;
  const axisY = 12 + events.length * lane + 8;
  const height = axisY + 34;
  const parts: string[] = [];
  parts.push(`<line x1="${x0}" y1="${axisY}" x2="${x1}" y2="${axisY}" stroke="#444"/>`);
  for (const tick of ticks) {
    const tx = num(x(tick), 1);
    parts.push(`<line x1="${tx}" y1="${axisY}" x2="${tx}" y2="${axisY + 4}" stroke="#444"/><text x="${tx}" y="${axisY + 16}" text-anchor="middle" fill="#555">${esc(tick)}</text>`);
  }
  parts.push(`<text x="${x1}" y="${axisY + 30}" text-anchor="end" fill="#555">ms after the send started (${name})</text>`);
  parts.push(`<circle cx="${x0}" cy="${axisY}" r="4" fill="#333"/><text x="${x0 + 6}" y="${axisY - 6}" fill="#555">send started</text>`);
  events.forEach((e, i) => {
    const y = 12 + i * lane + 10;
    if (e.ms === null) {
      parts.push(`<text x="${x0 + 8}" y="${y + 4}" fill="${e.colour}" font-style="italic">${esc(`${e.label}: ${e.missing}`)}</text>`);
      return;
    }
    const ex = x(e.ms);
    const right = ex > (x0 + x1) / 2;
    parts.push(
      `<line x1="${num(ex, 1)}" y1="${y}" x2="${num(ex, 1)}" y2="${axisY}" stroke="${e.colour}" stroke-dasharray="3 2"/>` +
        `<circle cx="${num(ex, 1)}" cy="${axisY}" r="4.5" fill="${e.colour}"/>` +
        `<circle cx="${num(ex, 1)}" cy="${y}" r="3" fill="${e.colour}"/>` +
        `<text x="${num(right ? ex - 8 : ex + 8, 1)}" y="${y + 4}" text-anchor="${right ? 'end' : 'start'}" fill="${e.colour}">${esc(e.label)} <tspan font-weight="600">${esc(num(e.ms))} ms</tspan></text>`,
    );
  });
  return `<svg class="timeline" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ${FONT}>${parts.join('')}</svg>`;
}
