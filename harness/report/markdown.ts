// The matrix as GitHub-flavoured Markdown, for pasting into an issue or a mailing-list post:
// host line, one table (rows methods, columns safeguard/transport), legend, counterexamples'
// replay commands. No colour in Markdown, so each verdict also gets a mark.
import { NOT_APPLICABLE, VERDICT_STYLE } from './legend.ts';
import { cellKey, cellSummary, matrixAxes, otherCounts, replayCommand, VERDICTS, type MatrixCell, type Report } from './types.ts';

/** Table cells cannot hold "|" or newlines; inline text must not start Markdown/HTML syntax. */
export function mdEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([*_`[\]])/g, '\\$1');
}

function cellText(c: MatrixCell | undefined): string {
  if (!c) return 'n/a';
  const others = otherCounts(c);
  const reason = (c.verdict === 'inconclusive' || c.verdict === 'skipped') && c.reasons[0] ? ` — ${c.reasons[0]}${c.reasons.length > 1 ? ' …' : ''}` : '';
  return `${VERDICT_STYLE[c.verdict].mark} ${mdEscape(cellSummary(c))}${others.length ? ` (${mdEscape(others.join(', '))})` : ''}${mdEscape(reason)}`;
}

export function renderMarkdown(r: Report): string {
  const h = r.host;
  const { methods, safeguards, transports } = matrixAxes(r);
  const cells = new Map(r.cells.map((c) => [cellKey(c.method, c.safeguard, c.transport), c]));
  const out: string[] = [];
  out.push(`## zcprobe ${mdEscape(r.tool.version)}: buffer reuse after zero-copy sends, kernel ${mdEscape(h.kernel)}`);
  out.push('');
  out.push(`**Host:** \`${h.uname.replace(/`/g, "'")}\` · ${h.cpus} CPUs · Node ${mdEscape(h.node)} · run ${mdEscape(r.runId)} · ${mdEscape(h.createdAt)}`);
  if (r.transports.length) out.push(`**Transports:** ${r.transports.map((t) => `${mdEscape(t.name)} (${mdEscape(t.describe)})`).join('; ')}`);
  for (const t of r.transports) if (t.pageOwnership) out.push(`- ${mdEscape(t.pageOwnership)}`);
  out.push('');
  if (methods.length) {
    const cols = safeguards.flatMap((s) => transports.map((t) => ({ s, t })));
    out.push(`| method | ${cols.map(({ s, t }) => `${mdEscape(s)} / ${mdEscape(t)}`).join(' | ')} |`);
    out.push(`|---|${cols.map(() => '---').join('|')}|`);
    for (const m of methods) out.push(`| **${mdEscape(m)}** | ${cols.map(({ s, t }) => cellText(cells.get(cellKey(m, s, t)))).join(' | ')} |`);
  } else {
    out.push('_The matrix has no cells._');
  }
  out.push('');
  out.push('Each cell: cases with the cell\'s verdict / all cases; mutation right after the send returned (`none`) or after the safeguard.');
  out.push('');
  for (const v of VERDICTS) out.push(`- ${VERDICT_STYLE[v].mark} **${v}**: ${mdEscape(VERDICT_STYLE[v].meaning)}`);
  out.push(`- **n/a**: ${mdEscape(NOT_APPLICABLE)}`);
  if (r.notes.length) {
    out.push('');
    out.push('**Notes:**');
    for (const n of r.notes) out.push(`- ${mdEscape(n)}`);
  }
  if (r.counterexamples.length) {
    out.push('');
    out.push('**Counterexamples:**');
    for (const c of r.counterexamples)
      out.push(`- ${VERDICT_STYLE[c.verdict].mark} ${mdEscape(`${c.method} × ${c.safeguard} × ${c.transport}`)}, ${c.size} bytes, receiver delay ${c.receiverDelayMs} ms: \`${replayCommand(c).replace(/`/g, "'")}\``);
  }
  out.push('');
  return out.join('\n');
}
