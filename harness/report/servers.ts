// The report's "Real servers" section: cells server + version × setting × mutation built from serve
// cases like the matrix cells, a recommendation row per server, counterexamples with their evidence.
import { relative } from 'node:path';
import type { ServeCaseRecord } from '../evidence/serve-evidence.ts';
import { formatSize } from '../model/experiment.ts';
import { cellVerdict } from './cells.ts';
import { hexDiffHtml } from './counterexample.ts';
import { VERDICT_STYLE } from './legend.ts';
import type { ServerCell, ServerCounterexample, ServerRecommendation, ServersSection } from './server-types.ts';
import { CORRUPTED, type Verdict } from './types.ts';

export interface ServeSkip { server: string; setting: string; mutation: string; reason: string }

const shapeOf = (r: ServeCaseRecord): string => {
  const changed = r.received.classes.ranges.filter((x) => x.class !== 'old');
  if (!changed.length) return 'old';
  return changed.slice(0, 4).map((x) => `${x.class} [${x.start},${x.end})`).join(' ') + (changed.length > 4 ? ' …' : '');
};
const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const MUTATION_ORDER = ['rename-replace', 'pwrite', 'copy-over', 'copytruncate'];
const byMutation = (a: string, b: string) => {
  const r = (m: string) => (MUTATION_ORDER.includes(m) ? MUTATION_ORDER.indexOf(m) : MUTATION_ORDER.length);
  return r(a) - r(b) || a.localeCompare(b);
};

function counterexampleOf(r: ServeCaseRecord, runDir: string): ServerCounterexample | null {
  if (!r.evidence || !r.hexDiff) return null;
  const t0 = r.timings.connectedAt;
  const ms = (t: number | null) => (t === null || !t0 ? null : Math.round((t - t0) * 10) / 10);
  const rel = (p: string) => relative(runDir, p);
  const set = r.setting === 'defaults' ? '' : r.setting.split(',').map((s) => ` --set ${s}`).join('');
  return {
    caseId: r.id, server: r.server, version: r.serverVersion, setting: r.setting, mutation: r.mutation, verdict: r.verdict,
    size: r.size, clientDelayMs: r.clientDelayMs, rcvbuf: r.rcvbuf,
    hexDiff: { offset: r.hexDiff.offset, intended: r.hexDiff.intended, wire: r.hexDiff.wire, received: r.hexDiff.received },
    timeline: {
      loggedMs: ms(r.timings.loggedAt), logSeenMs: ms(r.timings.logSeenAt), mutatedMs: ms(r.timings.mutatedAt),
      firstMutatedPacketMs: ms(r.timings.firstMutatedPacketAt), lastBodyPacketMs: ms(r.timings.lastBodyPacketAt),
      clientFirstReadMs: ms(r.timings.clientFirstReadAt),
    },
    pcap: r.evidence.pcap && rel(r.evidence.pcap),
    caseJson: rel(r.evidence.caseJson),
    ...(r.wireshark && r.evidence.pcapng ? { wireshark: { pcapng: rel(r.evidence.pcapng), filter: r.wireshark.filter } } : {}),
    command: `npx zcprobe serve --server ${r.server}${set} --mutation ${r.mutation} --size ${r.size} --client-delay-ms ${r.clientDelayMs}`
      + `${r.rcvbuf ? ` --rcvbuf ${r.rcvbuf}` : ''} --transport ${r.transport} --fs ${r.fs}`,
  };
}

function headline(c: ServerCell): string {
  const n = (v: Verdict) => c.counts[v] ?? 0;
  const corrupted = CORRUPTED.reduce((s, v) => s + n(v), 0);
  const kind = (v: Verdict) => v.replace('corrupted-', '').replace('corrupted', 'two-stream');
  if (corrupted) return `${corrupted}/${c.cases} corrupted (${CORRUPTED.filter((v) => n(v)).map((v) => `${n(v)} ${kind(v)}`).join(', ')})`;
  if (n('skipped')) return `skipped: ${c.reasons[0] ?? ''}`;
  const inc = n('inconclusive');
  return `${n('clean')}/${c.cases} clean${inc ? `, ${inc} inconclusive` : ''}`;
}

function recommend(server: string, version: string, cells: ServerCell[]): ServerRecommendation {
  const settings = [...new Set(cells.map((c) => c.setting))];
  const safe: ServerRecommendation['safe'] = [];
  const unsafe: ServerRecommendation['unsafe'] = [];
  const unproven: ServerRecommendation['unproven'] = [];
  for (const mutation of [...new Set(cells.map((c) => c.mutation))].sort(byMutation)) {
    const held: string[] = [];
    for (const c of cells.filter((x) => x.mutation === mutation)) {
      if (c.counterexampleIds.length) unsafe.push({
        mutation,
        setting: c.setting,
        headline: headline(c),
        counterexample: c.counterexampleIds[0] ?? null,
      });
      else if (c.verdict === 'clean') held.push(c.setting);
      else unproven.push({ mutation, setting: c.setting, why: headline(c) });
    }
    if (held.length) safe.push({ mutation, settings: held });
  }
  const everywhere = safe.filter((s) => s.settings.length === settings.length).map((s) => s.mutation);
  const somewhere = safe.filter((s) => s.settings.length < settings.length);
  const parts = [
    everywhere.length
      ? `safe under every setting tried (${settings.join('; ')}): ${everywhere.join(', ')}`
      : 'no update was safe under every setting tried',
    ...somewhere.map((s) => `${s.mutation} only with ${s.settings.join(' or ')}`),
    ...(unsafe.length ? [`not safe: ${unsafe.map((u) => `${u.mutation} with ${u.setting} (${u.headline})`).join('; ')}`] : []),
    ...(unproven.length ? [`not settled: ${unproven.map((u) => `${u.mutation} with ${u.setting} (${u.why})`).join('; ')}`] : []),
  ];
  return { server, version, rule: `${version}: ${parts.join('. ')}.`, safe, unsafe, unproven };
}

export function buildServersSection(
  records: readonly ServeCaseRecord[],
  skipped: readonly ServeSkip[],
  runDir: string,
  plan: string,
): ServersSection {
  const cells = new Map<string, ServerCell & { shapes: Map<string, number>; times: number[] }>();
  const servers = new Map<string, ServersSection['servers'][number]>();
  const cellOf = (server: string, version: string, setting: string, mutation: string) => {
    const key = JSON.stringify([server, setting, mutation]);
    let c = cells.get(key);
    if (!c) {
      c = {
        server,
        version,
        setting,
        mutation,
        cases: 0,
        counts: {},
        verdict: 'inconclusive',
        reasons: [],
        counterexampleIds: [],
        received: [],
        loggedBeforeLastByte: 0,
        harnessMsMedian: null,
        shapes: new Map(),
        times: [],
      };
      cells.set(key, c);
    }
    return c;
  };
  const counterexamples: ServerCounterexample[] = [];
  for (const r of records) {
    servers.set(r.server, { name: r.server, version: r.serverVersion, package: r.package });
    const c = cellOf(r.server, r.serverVersion, r.setting, r.mutation);
    c.cases++;
    c.counts[r.verdict] = (c.counts[r.verdict] ?? 0) + 1;
    for (const why of r.reasons) if (!c.reasons.includes(why)) c.reasons.push(why);
    if (r.doneSignal?.loggedBeforeLastByte) c.loggedBeforeLastByte++;
    c.times.push(r.harnessMs);
    const s = shapeOf(r);
    c.shapes.set(s, (c.shapes.get(s) ?? 0) + 1);
    if (CORRUPTED.includes(r.verdict)) {
      c.counterexampleIds.push(r.id);
      // One counterexample per cell: its first corrupted case.
      if (c.counterexampleIds.length === 1) {
        const cx = counterexampleOf(r, runDir);
        if (cx) counterexamples.push(cx);
      }
    }
  }
  for (const s of skipped) {
    const c = cellOf(s.server, servers.get(s.server)?.version ?? s.server, s.setting, s.mutation);
    c.counts.skipped = (c.counts.skipped ?? 0) + 1;
    if (!c.reasons.includes(s.reason)) c.reasons.push(s.reason);
  }
  const out: ServerCell[] = [];
  for (const { shapes, times, ...c } of cells.values()) {
    c.received = [...shapes].sort((a, b) => b[1] - a[1]).map(([shape, cases]) => ({ shape, cases }));
    c.reasons = c.reasons.slice(0, 8);
    c.verdict = cellVerdict(c.counts, c.counts.clean === c.cases ? [] : c.reasons);
    c.harnessMsMedian = median(times);
    out.push(c);
  }
  out.sort((a, b) => a.server.localeCompare(b.server) || a.setting.localeCompare(b.setting) || byMutation(a.mutation, b.mutation));
  const recommendations = [...new Set(out.map((c) => c.server))].map((s) => recommend(
    s,
    servers.get(s)?.version ?? s,
    out.filter((c) => c.server === s),
  ));
  return { plan, servers: [...servers.values()], cells: out, recommendations, counterexamples, skipped: [...skipped] };
}

function cellText(c: ServerCell): string {
  const seen = c.received.filter((r) => r.shape !== 'old').map((r) => `${r.cases}× ${r.shape}`);
  return `${headline(c)}${seen.length ? ` — ${seen.join('; ')}` : ''}`;
}

const SECTION_LEAD = 'A real server from the distribution serves a file to zcprobe\'s slow client; the file is changed the moment the '
  + 'server\'s access-log line says the response is done. Each row: cases with the verdict, where the client\'s body bytes were not the '
  + 'old ones, and in how many cases the log line came before the last body byte had left.';

export function serversMarkdown(s: ServersSection | undefined, esc: (x: string) => string): string[] {
  if (!s || !s.cells.length) return [];
  const code = (x: string) => `\`${x.replace(/`/g, "'")}\``;
  const out = ['', '### Real servers', '', esc(SECTION_LEAD), '', esc(s.plan), ''];
  for (const r of s.recommendations) out.push(`- **${esc(r.server)}**: ${esc(r.rule)}`);
  out.push('', '| server | setting | mutation | result | logged before last byte |', '|---|---|---|---|---|');
  for (const c of s.cells) {
    const result = `${VERDICT_STYLE[c.verdict].mark} ${esc(cellText(c))}`;
    out.push(`| ${esc(c.version)} | ${esc(c.setting)} | ${esc(c.mutation)} | ${result} | ${c.loggedBeforeLastByte}/${c.cases} |`);
  }
  if (s.counterexamples.length) {
    out.push('', '**Server counterexamples:**', '');
    s.counterexamples.forEach((c, i) => {
      const ws = c.wireshark ? `; Wireshark (${esc(c.wireshark.pcapng)}): ${code(c.wireshark.filter)}` : '';
      const what = esc(`${c.version} ${c.setting} · ${c.mutation}`);
      const pcap = esc(c.pcap ?? 'no pcap');
      out.push(`${i + 1}. ${VERDICT_STYLE[c.verdict].mark} ${what}: ${esc(c.verdict)}; ${pcap}; ${code(c.command)}${ws}`);
    });
  }
  for (const p of s.servers) out.push(`- ${esc(`${p.version} (${p.package})`)}`);
  return out;
}

function timelineText(t: ServerCounterexample['timeline']): string {
  const at = (label: string, v: number | null) => (v === null ? null : `${label} ${v} ms`);
  return [at('server logged', t.loggedMs), at('line seen', t.logSeenMs), at('file changed', t.mutatedMs),
    at('first changed packet', t.firstMutatedPacketMs),
    at('last body packet', t.lastBodyPacketMs), at('client\'s first read', t.clientFirstReadMs)].filter(Boolean).join(' → ');
}

export function serversHtml(s: ServersSection | undefined, esc: (x: string) => string): string {
  if (!s || !s.cells.length) return '';
  const rows = s.cells.map((c) => `<tr><th>${esc(c.version)}</th><td><code>${esc(c.setting)}</code></td>`
    + `<td><code>${esc(c.mutation)}</code></td>`
    + `<td style="background:${VERDICT_STYLE[c.verdict].fill}">${esc(cellText(c))}</td>`
    + `<td>${c.loggedBeforeLastByte}/${c.cases}</td><td>${c.harnessMsMedian ?? ''}</td></tr>`).join('\n');
  const link = (p: string) => `<a href="${esc(p)}">${esc(p)}</a>`;
  const wiresharkLink = (w: { pcapng: string; filter: string }) => `${link(w.pcapng)} (filter <code>${esc(w.filter)}</code>)`;
  const cxs = s.counterexamples.map((c) => `<section class="counterexample" id="srv-${esc(c.caseId)}">
<h3>${esc(`${c.version} ${c.setting} · ${c.mutation}`)}: ${esc(c.verdict)}</h3>
<p>${esc(formatSize(c.size))}, client ${c.clientDelayMs} ms late${c.rcvbuf ? `, receive buffer ${esc(formatSize(c.rcvbuf))}` : ''}.
Timeline (after the client connected): ${esc(timelineText(c.timeline))}.</p>
${hexDiffHtml(c.hexDiff)}
<p>Evidence: ${c.pcap ? `${link(c.pcap)}, ` : ''}${link(c.caseJson)}${c.wireshark ? `, ${wiresharkLink(c.wireshark)}` : ''}.
Run again: <code>${esc(c.command)}</code></p>
</section>`).join('\n');
  return `<section class="servers" id="servers">
<h2>Real servers</h2>
<p class="lead">${esc(SECTION_LEAD)}</p>
<p>${esc(s.plan)}</p>
<ul class="recs">${s.recommendations.map((r) => `<li><strong>${esc(r.server)}</strong>: ${esc(r.rule)}</li>`).join('')}</ul>
<table class="fs-matrix"><thead><tr><th>server</th><th>setting</th><th>mutation</th><th>result</th><th>logged before last byte</th>
<th>harness ms/case</th></tr></thead>
<tbody>${rows}</tbody></table>
${cxs}
<ul class="notes">${s.servers.map((p) => `<li>${esc(`${p.version} (${p.package})`)}</li>`).join('')}</ul>
</section>`;
}
