// One <section class="counterexample"> per shrunk failing case: what to rerun, the three streams
// around the first mismatch, when things happened, and links to the evidence bundle.
import { VERDICT_STYLE } from './legend.ts';
import { esc, num, timelineSvg } from './svg.ts';
import { replayCommand, type Counterexample } from './types.ts';
import { formatSize } from '../model/experiment.ts';

/** Stable, unique, attribute-safe anchor ids ("cx-<caseId>"), in report order. */
export function counterexampleAnchors(cxs: readonly Counterexample[]): string[] {
  const seen = new Map<string, number>();
  return cxs.map((c) => {
    const base = `cx-${c.caseId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}-${n + 1}` : base;
  });
}

const bytesOf = (h: string | null): string[] => (h ? (h.match(/[0-9a-fA-F]{2}/g) ?? []) : []);

/**
 * I/W/R rows, 16 bytes each, offsets in hex like hexdump. A W or R byte that differs from I is
 * highlighted in the colour of where it went wrong.
 */
export function hexDiffHtml(d: Counterexample['hexDiff']): string {
  const I = bytesOf(d.intended);
  const W = d.wire === null ? null : bytesOf(d.wire);
  const R = bytesOf(d.received);
  const len = Math.max(I.length, W?.length ?? 0, R.length);
  const lines: string[] = [`<span class="hx-h">${' '.repeat(11)}${Array.from({ length: 16 }, (_, i) => `+${i.toString(16)}`).join(' ')}</span>`];
  for (let row = 0; row < len; row += 16) {
    const off = (d.offset + row).toString(16).padStart(8, '0');
    const differs = (bytes: string[] | null, i: number) =>
      bytes !== null && bytes[i] !== undefined && I[i] !== undefined && bytes[i].toLowerCase() !== I[i].toLowerCase();
    // W differs: the wire was wrong (red). R differs while W matched: wrong only after the wire
    // (orange). R differs with no capture: place unknown (purple).
    const classOf = (tag: string, i: number): string => {
      if (tag === 'W') return differs(W, i) ? 'hx-w' : '';
      if (tag !== 'R' || !differs(R, i)) return '';
      return W === null ? 'hx-x' : differs(W, i) ? 'hx-w' : 'hx-r';
    };
    const line = (tag: string, bytes: string[]) => {
      const cellsHtml: string[] = [];
      for (let i = row; i < row + 16 && i < len; i++) {
        const b = bytes[i];
        const cls = classOf(tag, i);
        if (b === undefined) cellsHtml.push('<span class="hx-miss">··</span>');
        else cellsHtml.push(cls ? `<span class="${cls}">${esc(b)}</span>` : esc(b));
      }
      return `<span class="hx-off">${off}</span> <span class="hx-tag">${tag}</span> ${cellsHtml.join(' ')}`;
    };
    lines.push(line('I', I));
    if (W) lines.push(line('W', W));
    lines.push(line('R', R));
    lines.push('');
  }
  return `<pre class="hex">${lines.join('\n').trimEnd()}</pre>`;
}

function mismatchText(m: { mismatchedBytes: number; firstOffset: number | null }, size: number): string {
  if (!m.mismatchedBytes) return 'identical to the intended bytes';
  const pct = (100 * m.mismatchedBytes) / size;
  return `${m.mismatchedBytes.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} bytes differ (${num(pct, 1)}%), first at offset ${m.firstOffset ?? '?'}`;
}

/** Relative evidence paths become links; a path that tries to be a URL is shown, not linked. */
function evidenceLink(path: string | null, text: string): string {
  if (path === null) return `<span class="muted">${esc(text)}: not captured</span>`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) return `<span>${esc(text)}: <code>${esc(path)}</code></span>`;
  const href = path.split('/').map(encodeURIComponent).join('/');
  return `<a href="${esc(href)}">${esc(text)}</a> <code class="muted">${esc(path)}</code>`;
}

/** The earlier of the wire's and the receiver's first differing offset. */
function firstMismatch(c: Counterexample): string {
  const offs = [c.wire?.firstOffset, c.received.firstOffset].filter((o): o is number => typeof o === 'number');
  return offs.length ? `First mismatch at offset ${Math.min(...offs)} (0x${Math.min(...offs).toString(16)})` : 'No mismatch recorded';
}

export function counterexampleHtml(c: Counterexample, anchor: string, index: number): string {
  const style = VERDICT_STYLE[c.verdict];
  const replayed = c.seed !== undefined ? `seed ${c.seed}${c.path !== undefined ? `, path ${c.path}` : ''}${c.claim !== undefined ? `, claim ${c.claim}` : ''}` : 'none (found by the matrix, not by a property)';
  const facts: [string, string][] = [
    ['case', c.caseId],
    ['size', `${formatSize(c.size)} (${c.size.toLocaleString('en-US')} bytes)`],
    ['receiver delay', `${num(c.receiverDelayMs)} ms`],
    ['SO_RCVBUF', c.rcvbuf === null ? 'kernel default (autotuning)' : formatSize(c.rcvbuf)],
    ['fast-check', replayed],
    ['wire', c.wire ? mismatchText(c.wire, c.size) : 'not captured'],
    [
      'received',
      `${mismatchText(c.received, c.size)}${c.received.mismatchedBytes ? `; ${c.received.equalsMutation.toLocaleString('en-US')} equal the mutation, ${c.received.zero.toLocaleString('en-US')} are zero` : ''}`,
    ],
  ];
  return `<section class="counterexample" id="${esc(anchor)}">
<h3><span class="badge" style="background:${style.fill};color:${style.ink}">${esc(c.verdict)}</span> #${index + 1} ${esc(c.method)} × ${esc(c.safeguard)} × ${esc(c.transport)}</h3>
<div class="cx-grid">
<div>
<table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<p class="replay">replay: <code>${esc(replayCommand(c))}</code></p>
<p class="links">${evidenceLink(c.pcap, 'packets (pcap)')}<br>${evidenceLink(c.caseJson, 'case.json')}</p>
${c.wireshark ? `<p class="links">${evidenceLink(c.wireshark.pcapng, 'annotated packets (pcapng)')}<br>Wireshark display filter: <code>${esc(c.wireshark.filter)}</code></p>` : ''}
</div>
<div>
<h4>${esc(firstMismatch(c))}</h4>
${c.verdict === 'corrupted-on-retransmit' ? '<p class="hx-key">The first transmission and the received bytes match I: a TCP retransmission carried the changed bytes (both versions and their packet numbers are in case.json; the packets in the pcap).</p>' : ''}
${hexDiffHtml(c.hexDiff)}
<p class="hx-key">${c.hexDiff.wire === null ? '<b>I</b> intended · <b>R</b> received · <span class="hx-x">xx</span> differs from I (no capture: where it changed is unknown)' : '<b>I</b> intended · <b>W</b> first transmission on the wire · <b>R</b> received · <span class="hx-w">xx</span> differs from I on the wire · <span class="hx-r">xx</span> differs from I only at the receiver'}</p>
</div>
</div>
<h4>Timeline</h4>
${timelineSvg(c.timeline)}
${c.receiverClockUncertaintyMs === undefined ? '' : `<p class="muted">The receiver ran on another host: its first read and the first mutated packet (captured there) are on the sender's clock within ± ${esc(num(c.receiverClockUncertaintyMs))} ms (clock offset measured over the control channel).</p>`}
</section>`;
}
