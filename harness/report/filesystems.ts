// The report's filesystem section (suites/fs-matrix.ts): FsCell built from the cases like the matrix cells, and one table per
// safeguard, rows method · mutation, a column per filesystem: verdict counts and where the received bytes were not the old ones.
import type { FilesystemSection, FsCell, FsFactsRow } from './fs-types.ts';
import { MUTATION_KINDS } from '../model/mutation-spec.ts';
import { cellVerdict } from './cells.ts';
import { byMethod, CORRUPTED, type Verdict } from './types.ts';

/** The part of a CaseReport this needs. */
export interface FsCaseLike {
  id: string;
  method: string;
  mutation: string;
  safeguard: string;
  verdict: Verdict;
  reasons: string[];
  filesystem: FsFactsRow | null;
  received: { classes: { ranges: { start: number; end: number; class: string }[] } };
}

const shapeOf = (c: FsCaseLike): string => {
  const changed = c.received.classes.ranges.filter((r) => r.class !== 'old');
  return changed.length ? changed.slice(0, 4).map((r) => `${r.class} [${r.start},${r.end})`).join(' ') + (changed.length > 4 ? ' …' : '') : 'old';
};

export function buildFsSection(
  cases: readonly FsCaseLike[],
  skipped: readonly { fs: string; method: string; mutation: string; safeguard: string; reason: string }[],
): FilesystemSection {
  const facts = new Map<string, FsFactsRow>();
  const cells = new Map<string, FsCell & { shapes: Map<string, number> }>();
  const cellOf = (fs: string, method: string, mutation: string, safeguard: string) => {
    const key = JSON.stringify([fs, method, mutation, safeguard]);
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { fs, method, mutation, safeguard, cases: 0, counts: {}, verdict: 'inconclusive', reasons: [], counterexampleIds: [], received: [], shapes: new Map() }));
    return cell;
  };
  for (const c of cases) {
    if (!c.filesystem) continue;
    const f = c.filesystem;
    facts.set(f.fs, { fs: f.fs, type: f.type, mountOptions: f.mountOptions, superOptions: f.superOptions, blockSize: f.blockSize });
    const cell = cellOf(f.fs, c.method, c.mutation, c.safeguard);
    cell.cases++;
    cell.counts[c.verdict] = (cell.counts[c.verdict] ?? 0) + 1;
    for (const r of c.reasons) if (!cell.reasons.includes(r)) cell.reasons.push(r);
    if (CORRUPTED.includes(c.verdict)) cell.counterexampleIds.push(c.id);
    const s = shapeOf(c);
    cell.shapes.set(s, (cell.shapes.get(s) ?? 0) + 1);
  }
  for (const s of skipped) {
    const cell = cellOf(s.fs, s.method, s.mutation, s.safeguard);
    cell.counts.skipped = (cell.counts.skipped ?? 0) + 1;
    if (!cell.reasons.includes(s.reason)) cell.reasons.push(s.reason);
  }
  const out: FsCell[] = [];
  for (const { shapes, ...cell } of cells.values()) {
    cell.received = [...shapes].sort((a, b) => b[1] - a[1]).map(([shape, n]) => ({ shape, cases: n }));
    cell.reasons = cell.reasons.slice(0, 8);
    cell.verdict = cellVerdict(cell.counts, cell.counts.clean === cell.cases ? [] : cell.reasons);
    out.push(cell);
  }
  return { facts: [...facts.values()], cells: out };
}

const uniq = (xs: string[]) => [...new Set(xs)];

function cellText(c: FsCell | undefined): string {
  if (!c) return 'n/a';
  if (c.verdict === 'skipped') return `skipped: ${c.reasons[0] ?? ''}`;
  const n = c.counts[c.verdict] ?? 0;
  const seen = c.received.filter((r) => r.shape !== 'old').map((r) => `${r.cases}× ${r.shape}`);
  return `${n}/${c.cases} ${c.verdict}${seen.length ? ` — ${seen.join('; ')}` : ''}`;
}

/** Rows (method · mutation) and columns (filesystems) of one safeguard's table. */
function tables(s: FilesystemSection): { safeguard: string; fss: string[]; rows: { label: string; cells: string[] }[] }[] {
  const fss = uniq(s.cells.map((c) => c.fs));
  return uniq(s.cells.map((c) => c.safeguard)).map((safeguard) => {
    const mine = s.cells.filter((c) => c.safeguard === safeguard);
    const kind = (m: string) => MUTATION_KINDS.indexOf(m.split(':')[0] as never);
    const keys = uniq(mine.map((c) => JSON.stringify([c.method, c.mutation]))).sort((a, b) => {
      const [ma, xa] = JSON.parse(a) as [string, string];
      const [mb, xb] = JSON.parse(b) as [string, string];
      return byMethod(ma, mb) || kind(xa) - kind(xb) || xa.localeCompare(xb);
    });
    const rows = keys.map((k) => {
      const [method, mutation] = JSON.parse(k) as [string, string];
      return { label: `${method} · ${mutation}`, cells: fss.map((fs) => cellText(mine.find((c) => c.fs === fs && c.method === method && c.mutation === mutation))) };
    });
    return { safeguard, fss, rows };
  });
}

const factsLine = (f: FsFactsRow) => `${f.fs}: ${f.type}, block ${f.blockSize}, ${f.mountOptions} | ${f.superOptions}`;

export function fsMarkdown(s: FilesystemSection | undefined, esc: (x: string) => string): string[] {
  if (!s || !s.cells.length) return [];
  const out = ['', '### File methods on each filesystem', '', 'Each cell: cases with the verdict / all, then where the receiver\'s bytes were not the old ones (1 MiB read 50 ms late, loopback).', ''];
  for (const t of tables(s)) {
    out.push(`**safeguard ${esc(t.safeguard)}**`, '', `| method · mutation | ${t.fss.map(esc).join(' | ')} |`, `|---|${t.fss.map(() => '---').join('|')}|`);
    for (const r of t.rows) out.push(`| ${esc(r.label)} | ${r.cells.map(esc).join(' | ')} |`);
    out.push('');
  }
  for (const f of s.facts) out.push(`- ${esc(factsLine(f))}`);
  return out;
}

export function fsHtml(s: FilesystemSection | undefined, esc: (x: string) => string): string {
  if (!s || !s.cells.length) return '';
  const body = tables(s)
    .map((t) => `<h3>safeguard <code>${esc(t.safeguard)}</code></h3>
<table class="fs-matrix"><thead><tr><th>method · mutation</th>${t.fss.map((f) => `<th>${esc(f)}</th>`).join('')}</tr></thead>
<tbody>${t.rows.map((r) => `<tr><th>${esc(r.label)}</th>${r.cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`)
    .join('\n');
  return `<section class="filesystems" id="filesystems">
<h2>File methods on each filesystem</h2>
<p class="lead">Each cell: cases with the verdict / all, then where the receiver's bytes were not the old ones (1 MiB read 50 ms late, loopback).</p>
${body}
<ul class="notes">${s.facts.map((f) => `<li>${esc(factsLine(f))}</li>`).join('')}</ul>
</section>`;
}
