// The human report: one self-contained HTML file (inline CSS and SVG, no script, no URL) that can
// be attached to an issue or opened from a captures/ directory offline. A CSP meta tag forbids
// every external load, so a stray reference would show up as broken rather than phone home.
import { counterexampleAnchors, counterexampleHtml } from './counterexample.ts';
import { fsHtml } from './filesystems.ts';
import { serversHtml } from './servers.ts';
import { NOT_APPLICABLE, VERDICT_STYLE } from './legend.ts';
import { formatSize } from '../model/experiment.ts';
import { costChart, esc, num } from './svg.ts';
import { CSS } from './style.ts';
import { OBSERVATION_STATUS, pText } from './observations.ts';
import { findingsHtml, recommendationsHtml } from './recommend-html.ts';
import { cellKey, matrixAxes, VERDICTS, type MatrixCell, type ObservationRow, type Report } from './types.ts';

/** Offloads that decide whether the kernel transmits from the caller's pages (scatter-gather and
 * checksum offload are required for zero-copy) or coalesces/segments them; shown first. */
const KEY_OFFLOADS = [
  'scatter-gather',
  'tx-checksumming',
  'rx-checksumming',
  'tcp-segmentation-offload',
  'generic-segmentation-offload',
  'generic-receive-offload',
  'large-receive-offload',
  'tx-nocache-copy',
];

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${num(ms / 1000, 1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

function offloadValue(v: string | undefined): string {
  if (v === undefined) return '<td class="muted">—</td>';
  const on = v.startsWith('on');
  const fixed = v.includes('[fixed]');
  return `<td class="${on ? 'on' : 'off'}">${esc(v.replace(/\s*\[fixed\]/, ''))}${fixed ? ' <small>fixed</small>' : ''}</td>`;
}

function offloadsTable(offloads: Report['host']['offloads']): string {
  const ifaces = Object.keys(offloads);
  if (!ifaces.length) return '<p class="muted">No offload information (ethtool -k) was recorded.</p>';
  const all = [...new Set(ifaces.flatMap((i) => Object.keys(offloads[i]!)))];
  const key = KEY_OFFLOADS.filter((f) => all.includes(f));
  const rest = all.filter((f) => !key.includes(f)).sort();
  const table = (features: string[]) =>
    `<table class="offloads"><thead><tr><th>feature</th>${ifaces.map((i) => `<th>${esc(i)}</th>`).join('')}</tr></thead><tbody>` +
    features.map((f) => `<tr><th>${esc(f)}</th>${ifaces.map((i) => offloadValue(offloads[i]![f])).join('')}</tr>`).join('') +
    '</tbody></table>';
  return table(key.length ? key : rest) + (key.length && rest.length ? `<details><summary>${rest.length} more features</summary>${table(rest)}</details>` : '');
}

function host(r: Report): string {
  const h = r.host;
  const facts: [string, string][] = [
    ['uname', h.uname],
    ['CPUs', String(h.cpus)],
    ['Node.js', h.node],
    ['run', r.runId],
    ['created', h.createdAt],
    ['duration', duration(r.durationMs)],
    ['tool', `${r.tool.name} ${r.tool.version}`],
  ];
  const tally = VERDICTS.map((v) => [v, r.cells.filter((c) => c.verdict === v).length] as const).filter(([, n]) => n > 0);
  return `<section class="host-section" id="host">
<h2>Host</h2>
<p class="tally">${r.cells.length} cells: ${tally.map(([v, n]) => `<span class="badge" style="background:${VERDICT_STYLE[v].fill};color:${VERDICT_STYLE[v].ink}">${n} ${esc(v)}</span>`).join(' ')}</p>
<div class="host">
<div><table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h4>Transports</h4><ul class="transports">${r.transports.map((t) => `<li><b>${esc(t.name)}</b>: ${esc(t.describe)}${t.pageOwnership ? `<br><i>${esc(t.pageOwnership)}</i>` : ''}</li>`).join('')}</ul></div>
<div><h4>NIC offloads (ethtool -k)</h4>${offloadsTable(h.offloads)}</div>
</div>
</section>`;
}

/** Where a cell links: its first corrupted case that has a section, else any section for the same
 * method × safeguard × transport (a property's shrunk case has an id of its own). */
function cellLinks(r: Report): Map<string, string> {
  const anchors = counterexampleAnchors(r.counterexamples);
  const byCase = new Map(r.counterexamples.map((c, i) => [c.caseId, anchors[i]!]));
  const links = new Map<string, string>();
  r.counterexamples.forEach((c, i) => {
    const k = cellKey(c.method, c.safeguard, c.transport);
    if (!links.has(k)) links.set(k, anchors[i]!);
  });
  for (const cell of r.cells) {
    const id = cell.counterexampleIds.find((x) => byCase.has(x));
    if (id) links.set(cellKey(cell.method, cell.safeguard, cell.transport), byCase.get(id)!);
  }
  return links;
}

function cellHtml(cell: MatrixCell | undefined, link: string | undefined): string {
  if (!cell) return `<td class="na" title="${esc(`n/a: ${NOT_APPLICABLE}`)}">n/a</td>`;
  const style = VERDICT_STYLE[cell.verdict];
  // The headline from report.json: "6/6 corrupted (…)" shows its count large, the rest below.
  const m = /^(\d+\/\d+) (.*)$/.exec(cell.headline);
  const showReasons = cell.verdict === 'inconclusive' || cell.verdict === 'skipped';
  const title = [`${cell.method} × ${cell.safeguard} × ${cell.transport}: ${cell.headline} (${cell.verdict})`, ...cell.reasons].join('\n');
  const body =
    (m ? `<span class="n">${esc(m[1]!)}</span> <span class="v">${esc(m[2]!)}</span>` : `<span class="v">${esc(cell.headline)}</span>`) +
    (showReasons && cell.reasons.length ? `<span class="r">${esc(cell.reasons.join('; '))}</span>` : '') +
    (link ? '<span class="go">evidence ↓</span>' : '');
  const inner = link ? `<a href="#${esc(link)}">${body}</a>` : body;
  return `<td class="cell" style="background:${style.fill};--ink:${style.ink}" title="${esc(title)}">${inner}</td>`;
}

/** Rows are method × transport, columns the safeguards: a new transport adds rows, never width. */
function matrix(r: Report): string {
  const { methods, safeguards, transports } = matrixAxes(r);
  if (!methods.length) return '<p class="muted">The matrix has no cells.</p>';
  const cells = new Map(r.cells.map((c) => [cellKey(c.method, c.safeguard, c.transport), c]));
  const links = cellLinks(r);
  const rows = methods.flatMap((m) => {
    const mine = transports.filter((t) => safeguards.some((s) => cells.has(cellKey(m, s, t))));
    return mine.map((t, i) => {
      const head = i === 0 ? `<th class="method" rowspan="${mine.length}">${esc(m)}</th>` : '';
      const tds = safeguards.map((s) => cellHtml(cells.get(cellKey(m, s, t)), links.get(cellKey(m, s, t)))).join('');
      return `<tr${i === 0 ? ' class="group"' : ''}>${head}<th class="tr">${esc(t)}</th>${tds}</tr>`;
    });
  });
  return `<table class="matrix" id="matrix">
<colgroup><col class="method-col"><col class="tr-col">${safeguards.map(() => '<col>').join('')}</colgroup>
<thead><tr><th class="corner" colspan="2">method · transport ↓ safeguard →</th>${safeguards.map((s) => `<th>${esc(s)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function legend(): string {
  const items = VERDICTS.map(
    (v) => `<li><span class="swatch" style="background:${VERDICT_STYLE[v].fill};border-color:${VERDICT_STYLE[v].ink}"></span><b>${esc(v)}</b>: ${esc(VERDICT_STYLE[v].meaning)}</li>`,
  );
  items.push(`<li><span class="swatch na"></span><b>n/a</b>: ${esc(NOT_APPLICABLE)}</li>`);
  return `<ul class="legend">${items.join('')}</ul>`;
}

function costSection(r: Report): string {
  if (!r.cost.length) return '<p class="muted">No benchmark ran in this report.</p>';
  // One chart per transport and message size: ratios are only comparable within one of them.
  const groups = new Map<string, typeof r.cost>();
  for (const row of r.cost) {
    const k = `${row.transport}\u0000${row.messageSize}`;
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  return [...groups.values()]
    .map((rows) => {
      const { transport, messageSize } = rows[0]!;
      return `<figure><figcaption>${esc(transport)}, ${esc(formatSize(messageSize))} messages: throughput relative to the same method with the <code>copy</code> safeguard (median of runs); bar colour = the cell's verdict in the matrix.</figcaption>${costChart(rows, r.cells)}</figure>`;
    })
    .join('\n');
}

function observationsHtml(o: Report['observations']): string {
  if (!o) return '<p class="muted">No observations recorded on this kernel yet: <code>npm test</code> records them.</p>';
  const findings = o.rows.filter((r) => r.status === 'differs').length;
  const single = (r: ObservationRow) => (r.baseline?.singleOutcome ? ' — a single outcome (first format)' : '');
  const baseline = (r: ObservationRow) => (r.baseline ? `${r.baseline.outcome}${single(r)}` : '—');
  const rows = o.rows.map(
    (r) =>
      `<tr class="${r.status === 'differs' ? 'finding' : ''}"><td><code>${esc(r.id)}</code></td><td>${esc(r.transport)}</td>` +
      `<td>${esc(r.outcome)}</td><td>${esc(baseline(r))}</td><td>${esc(pText(r.pValue))}</td>` +
      `<td>${esc(OBSERVATION_STATUS[r.status])}</td></tr>`,
  );
  const verdict = findings ? `<strong>${findings} finding(s)</strong>` : 'no finding';
  const head = ['observation', 'transport', 'this host', 'baseline', 'Fisher', ''].map((h) => `<th>${h}</th>`).join('');
  return `<p class="lead">Results that depend on the kernel and transport, from the last <code>npm test</code> here (${esc(o.recordedAt)}),
each a rate (cases in which the event was seen, of the cases run) compared with <code>baselines/</code> by ${esc(o.test)}: ${verdict}.</p>
<table class="observations"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderHtml(r: Report): string {
  const anchors = counterexampleAnchors(r.counterexamples);
  const byCase = new Map(r.counterexamples.map((c, i) => [c.caseId, anchors[i]!]));
  const anchorOf = (id: string | null) => (id === null ? undefined : byCase.get(id));
  const title = `zcprobe report — kernel ${r.host.kernel} — ${r.runId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>zcprobe: buffer reuse after zero-copy sends <span class="kernel">kernel ${esc(r.host.kernel)}</span></h1>
</header>
<main>
${findingsHtml(r, anchorOf)}
<section class="recs-section" id="recommendations">
<h2>What to do after each send method</h2>
${recommendationsHtml(r, anchorOf)}
</section>
<section class="observations-section" id="observations">
<h2>Kernel-dependent observations</h2>
${observationsHtml(r.observations)}
</section>
${host(r)}
<section class="matrix-section">
<h2>Is the buffer safe to reuse? method × transport × safeguard</h2>
<p class="lead">Each cell counts every corrupted case (the kinds in brackets) over all its cases, for changing the source right after the send returned (<code>none</code>) or after the safeguard; a clean cell gives the upper bound on the corruption rate its cases support (95 % confidence). Click a corrupted cell for its counterexample.</p>
${matrix(r)}
${legend()}
${r.notes.length ? `<h4>Notes</h4><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</section>
${fsHtml(r.filesystems, esc)}
${serversHtml(r.servers, esc)}
<section class="cost" id="cost">
<h2>What each safeguard costs</h2>
${costSection(r)}
</section>
<section class="counterexamples" id="counterexamples">
<h2>Counterexamples (${r.counterexamples.length})</h2>
${r.counterexamples.length ? r.counterexamples.map((c, i) => counterexampleHtml(c, anchors[i]!, i)).join('\n') : '<p class="muted">None: no case was corrupted.</p>'}
</section>
</main>
</body>
</html>
`;
}
