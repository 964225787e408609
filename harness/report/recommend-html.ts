// The recommendation table, first in report.html: one row per method and scope with the rule
// the evidence supports, the cheapest safeguard that held (cost and confidence) and every
// safeguard that did not hold, each linking to its counterexample.
import { VERDICT_STYLE } from './legend.ts';
import { confidenceText, costText, noUseText, reportFindings } from './phrasing.ts';
import { esc } from './svg.ts';
import type { Recommendation, Report } from './types.ts';

/** caseId → the anchor of its counterexample section. */
export type AnchorOf = (caseId: string | null) => string | undefined;

function useHtml(row: Recommendation): string {
  const held = row.held.find((h) => h.safeguard === row.use);
  if (!held) return `<span class="none-held">${esc(noUseText(row))}</span>`;
  const style = VERDICT_STYLE.clean;
  const others = row.held.filter((h) => h !== held).map((h) => h.safeguard);
  return (
    `<span class="badge" style="background:${style.fill};color:${style.ink}">${esc(held.safeguard)}</span>` +
    `<span class="cost" title="${esc(held.cost.basis)}">${esc(costText(held.cost, row.scope.transport))}</span>` +
    `<span class="bound">${esc(held.headline)}</span>` +
    (others.length ? `<span class="also">also held: ${esc(others.join(', '))}</span>` : '')
  );
}

function failedHtml(row: Recommendation, anchorOf: AnchorOf): string {
  const failed = row.failed.map((f) => {
    const style = VERDICT_STYLE[f.verdict];
    const name = `<b style="color:${style.ink}">${esc(f.safeguard)}</b>`;
    const anchor = anchorOf(f.counterexample);
    const text = `${name} ${esc(f.headline)}`;
    return `<li><span class="swatch" style="background:${style.fill};border-color:${style.ink}"></span>${anchor ? `<a href="#${esc(anchor)}">${text}</a>` : text}</li>`;
  });
  const unproven = row.unproven.map((u) => `<li class="unproven"><span class="swatch" style="background:${VERDICT_STYLE.inconclusive.fill};border-color:${VERDICT_STYLE.inconclusive.ink}"></span><b>${esc(u.safeguard)}</b> not settled: ${esc(u.why)}</li>`);
  return failed.length || unproven.length ? `<ul class="failed">${[...failed, ...unproven].join('')}</ul>` : '<span class="muted">—</span>';
}

export function recommendationsHtml(r: Report, anchorOf: AnchorOf): string {
  const { dimensions, rows, costBasis } = r.recommendations;
  if (!rows.length) return '<p class="muted">No recommendation: the matrix has no cells.</p>';
  // The first dimension (the method) spans its rows, so the scopes of one method read as a group.
  const span = new Map<string, number>();
  for (const row of rows) span.set(row.scope[dimensions[0]!]!, (span.get(row.scope[dimensions[0]!]!) ?? 0) + 1);
  let prev: string | undefined;
  const body = rows.map((row) => {
    const lead = row.scope[dimensions[0]!]!;
    const first = lead !== prev;
    prev = lead;
    const leadCell = first ? `<th class="method" rowspan="${span.get(lead)}">${esc(lead)}</th>` : '';
    const rest = dimensions.slice(1).map((d) => `<td class="dim">${esc(row.scope[d] ?? '')}</td>`).join('');
    const verdict = row.use === null ? 'none-held' : 'held';
    return `<tr class="${first ? 'group ' : ''}${verdict}">${leadCell}${rest}<td class="rule">${esc(row.rule)}</td><td class="use">${useHtml(row)}</td><td class="fail">${failedHtml(row, anchorOf)}</td></tr>`;
  });
  return `<table class="recs" id="recommendation-table">
<colgroup><col class="method-col">${dimensions.slice(1).map(() => '<col class="dim-col">').join('')}<col class="rule-col"><col class="use-col"><col class="fail-col"></colgroup>
<thead><tr>${dimensions.map((d) => `<th>${esc(d)}</th>`).join('')}<th>what the evidence supports</th><th>cheapest safeguard that held</th><th>did not hold (click for the counterexample)</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table>
<p class="fine">${esc(confidenceText(r.plan))}</p>
<p class="fine">Cost: ${esc(costBasis)}</p>`;
}

/** The findings block, above everything else; empty when there is none. */
export function findingsHtml(r: Report, anchorOf: AnchorOf): string {
  const findings = reportFindings(r);
  if (!findings.length) return '';
  const items = findings.map((f) => {
    const anchor = anchorOf(f.counterexample);
    return `<li class="${f.kind}">${esc(f.line)}${anchor ? ` <a href="#${esc(anchor)}">counterexample ↓</a>` : ''}</li>`;
  });
  return `<section class="findings" id="findings">
<h2>Findings (${findings.length})</h2>
<p class="lead">Evidence against a documented contract comes first,
then observations whose rate differs from this kernel series' baseline beyond chance.</p>
<ul class="findings">${items.join('')}</ul>
</section>`;
}
