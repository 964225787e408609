// The report as GitHub-flavoured Markdown for an issue or a mailing list: recommendation, host, one narrow matrix table per
// transport, legend and replay commands. No colour in Markdown, so each verdict also gets a mark.
import { fsMarkdown } from './filesystems.ts';
import { serversMarkdown } from './servers.ts';
import { NOT_APPLICABLE, VERDICT_STYLE } from './legend.ts';
import { OBSERVATION_STATUS, pText } from './observations.ts';
import { confidenceText, costText, noUseText, reportFindings } from './phrasing.ts';
import { cellKey, matrixAxes, replayCommand, VERDICTS } from './types.ts';
import type { MatrixCell, ObservationRow, Recommendation, Report } from './types.ts';

/**
 * Plain text made literal in Markdown, inline or in a table cell, without HTML entities (they
 * would show as "&gt;" wherever the Markdown is read as text): CommonMark backslash escapes only
 * where a character could start syntax — "|" (cell border), emphasis/code/link characters ("_"
 * only at a word's edge), "<" before a tag or autolink, "&" before an entity. Newlines become
 * spaces.
 */
export function mdEscape(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/([\\|*`[\]~])/g, '\\$1')
    // "_" inside a word (io_uring_setup) never starts emphasis in GitHub Markdown.
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
    .replace(/<(?=[A-Za-z/!?])/g, '\\<')
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '\\&');
}

/** Inline code: a backtick inside would end it early, so it becomes a quote. */
const code = (s: string) => `\`${s.replace(/`/g, "'").replace(/[\r\n]+/g, ' ')}\``;

/** The report's third counterexample as numbered in the Counterexamples list ("#3" would become
 * a link to issue 3 once pasted into a GitHub issue). */
function cxRef(r: Report, caseId: string | null): string {
  const i = caseId === null ? -1 : r.counterexamples.findIndex((c) => c.caseId === caseId);
  return i < 0 ? '' : ` (counterexample ${i + 1})`;
}

function recommendationRow(r: Report, row: Recommendation): string {
  const dims = r.recommendations.dimensions;
  const held = row.held.find((h) => h.safeguard === row.use);
  const use = held
    ? `**${mdEscape(held.safeguard)}** — ${mdEscape(costText(held.cost, row.scope.transport))}; ${mdEscape(held.headline)}`
    : `**${mdEscape(noUseText(row))}**`;
  const failed = row.failed.map((f) => `${VERDICT_STYLE[f.verdict].mark} ${mdEscape(f.safeguard)}: ${mdEscape(f.headline)}${cxRef(r, f.counterexample)}`);
  const unproven = row.unproven.map((u) => `${VERDICT_STYLE[u.state].mark} ${mdEscape(u.safeguard)} not settled: ${mdEscape(u.headline)}`);
  const notHeld = [...failed, ...unproven].join('; ') || '—';
  return `| ${dims.map((d) => mdEscape(row.scope[d] ?? '')).join(' | ')} | ${mdEscape(row.rule)} | ${use} | ${notHeld} |`;
}

function recommendations(r: Report): string[] {
  const rows = r.recommendations.rows;
  if (!rows.length) return ['_No recommendation: the matrix has no cells._'];
  const dims = r.recommendations.dimensions;
  return [
    `| ${dims.map(mdEscape).join(' | ')} | what the evidence supports | cheapest safeguard that held | did not hold |`,
    `|${dims.map(() => '---').join('|')}|---|---|---|`,
    ...rows.map((row) => recommendationRow(r, row)),
    '',
    mdEscape(confidenceText(r.plan)),
    '',
    `Cost: ${mdEscape(r.recommendations.costBasis)}`,
  ];
}

function cellText(r: Report, c: MatrixCell): string {
  const showReason = (c.verdict === 'inconclusive' || c.verdict === 'skipped') && c.reasons[0];
  const reason = showReason ? ` — ${mdEscape(c.reasons[0]!)}${c.reasons.length > 1 ? ' …' : ''}` : '';
  const cx = c.corruptedCases > 0 ? cxRef(r, c.counterexampleIds.find((id) => r.counterexamples.some((x) => x.caseId === id)) ?? null) : '';
  return `${VERDICT_STYLE[c.verdict].mark} ${mdEscape(c.headline)}${reason}${cx}`;
}

/** One table per transport: method | safeguard | result — three columns, however many
 * safeguards and transports the matrix grows. */
function matrices(r: Report): string[] {
  const { methods, safeguards, transports } = matrixAxes(r);
  if (!methods.length) return ['_The matrix has no cells._'];
  const cells = new Map(r.cells.map((c) => [cellKey(c.method, c.safeguard, c.transport), c]));
  const out: string[] = [];
  for (const t of transports) {
    const rows: string[] = [];
    for (const m of methods) {
      let first = true;
      for (const s of safeguards) {
        const c = cells.get(cellKey(m, s, t));
        if (!c) continue;
        rows.push(`| ${first ? `**${mdEscape(m)}**` : ''} | ${mdEscape(s)} | ${cellText(r, c)} |`);
        first = false;
      }
    }
    if (!rows.length) continue;
    out.push(`#### ${mdEscape(t)}`, '', '| method | safeguard | result |', '|---|---|---|', ...rows, '');
  }
  return out;
}

/** A list, not a table: observation ids are long words, and a table of them would not fit GitHub's width. */
function observationsMarkdown(o: Report['observations']): string[] {
  if (!o) return ['_No observations recorded on this kernel yet: `npm test` records them._'];
  const single = (r: ObservationRow) => (r.baseline?.singleOutcome ? ' (a single outcome)' : '');
  const baseline = (r: ObservationRow) => (r.baseline ? `baseline ${r.baseline.outcome}${single(r)}` : 'no baseline');
  const status = (r: ObservationRow) => (r.status === 'differs' ? '**FINDING**' : mdEscape(OBSERVATION_STATUS[r.status]));
  return [
    `From the last \`npm test\` here (${mdEscape(o.recordedAt)}), each a rate compared with \`baselines/\` by ${mdEscape(o.test)}:`,
    '',
    ...o.rows.map((r) => `- ${mdEscape(`${r.id} (${r.transport}): ${r.outcome}; ${baseline(r)}; ${pText(r.pValue)}`)}: ${status(r)}`),
  ];
}

export function renderMarkdown(r: Report): string {
  const h = r.host;
  const out: string[] = [];
  out.push(`## zcprobe ${mdEscape(r.tool.version)}: buffer reuse after zero-copy sends, kernel ${mdEscape(h.kernel)}`);
  out.push('');
  const findings = reportFindings(r);
  if (findings.length) {
    out.push(`### Findings (${findings.length})`, '');
    for (const f of findings) out.push(`- **${mdEscape(f.line)}**${cxRef(r, f.counterexample)}`);
    out.push('');
  }
  out.push('### What to do after each send method');
  out.push('');
  out.push(...recommendations(r));
  out.push('');
  out.push('### Kernel-dependent observations');
  out.push('');
  out.push(...observationsMarkdown(r.observations));
  out.push('');
  out.push('### Host');
  out.push('');
  out.push(`${code(h.uname)} · ${h.cpus} CPUs · Node ${mdEscape(h.node)} · run ${mdEscape(r.runId)} · ${mdEscape(h.createdAt)}`);
  if (r.transports.length) {
    out.push('');
    out.push(`**Transports:** ${r.transports.map((t) => `${mdEscape(t.name)} (${mdEscape(t.describe)})`).join('; ')}`);
    for (const t of r.transports) if (t.pageOwnership) out.push(`- ${mdEscape(t.pageOwnership)}`);
  }
  out.push('');
  out.push('### Matrix: method × safeguard, per transport');
  out.push('');
  out.push('Each result counts every corrupted case of the cell (the kinds in brackets) over all its cases, for changing the source right after the send returned (`none`) or after the safeguard; a clean cell gives the bound on the corruption rate its cases support.');
  out.push('');
  out.push(...matrices(r));
  for (const v of VERDICTS) out.push(`- ${VERDICT_STYLE[v].mark} **${v}**: ${mdEscape(VERDICT_STYLE[v].meaning)}`);
  out.push(`- **n/a** (no row): ${mdEscape(NOT_APPLICABLE)}`);
  out.push(...fsMarkdown(r.filesystems, mdEscape));
  out.push(...serversMarkdown(r.servers, mdEscape));
  if (r.notes.length) {
    out.push('');
    out.push('**Notes:**');
    for (const n of r.notes) out.push(`- ${mdEscape(n)}`);
  }
  if (r.counterexamples.length) {
    out.push('');
    out.push('### Counterexamples');
    out.push('');
    r.counterexamples.forEach((c, i) => {
      const ws = c.wireshark ? `; Wireshark (${mdEscape(c.wireshark.pcapng)}): ${code(c.wireshark.filter)}` : '';
      out.push(`${i + 1}. ${VERDICT_STYLE[c.verdict].mark} ${mdEscape(`${c.method} × ${c.safeguard} × ${c.transport}`)}, ${c.size} bytes, receiver delay ${c.receiverDelayMs} ms: ${code(replayCommand(c))}${ws}`);
    });
  }
  out.push('');
  return out.join('\n');
}
