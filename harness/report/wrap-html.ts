// wrap.html: one self-contained page per `zcprobe wrap` run — the program, the link, each connection's
// verdict with the shim's findings (kind, file:line, backtrace, the bytes it touched, the frames that
// prove it) and links to the connection's evidence bundle.
import { relative } from 'node:path';
import type { WrapConnectionReport } from '../verdict/wrap-verdict.ts';
import { CSS } from './style.ts';

export interface WrapRunSummary {
  command: string[];
  exe: string;
  runDir: string;
  transport: { kind: string; describe: string; pageOwnership: string; captureIface: string };
  port: number;
  startedAt: number;
  listeningAt: number;
  program: { pid: number; exit: string; stoppedByUs: boolean; killedAfterGrace: boolean; stderrTail: string };
  /** the shim logged from the program itself */
  attached: boolean;
  /** ms from zcprobe's start to the write (or call) of the first finding later proven on the wire */
  firstProvenFindingMs: number | null;
  /** ms from zcprobe's start until the first connection with a proven finding was decided */
  firstProvenVerdictMs?: number | null;
  connections: (Omit<WrapConnectionReport, 'streams'> & { evidence?: { dir: string } })[];
  shimStats: { pid: number; exe: string; exit: unknown; unreadableLines: number }[];
  crash?: { pid: number; signal: number; inShim: boolean; backtrace: string[]; blame: string };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLOR: Record<string, string> = {
  proven: '#b3261e', unexplained: '#a15c00', latent: '#7a5b00', clean: '#1e7b38', inconclusive: '#555',
};
type Conn = WrapRunSummary['connections'][number];

function findingHtml(f: Conn['findings'][number]): string {
  const frames = f.proof?.frames.length ? `, frames ${f.proof.frames.join(', ')}` : '';
  const proof = f.proof ? ` (wire: ${f.proof.wireBytes} changed byte(s), client: ${f.proof.receivedBytes}${frames})` : '';
  const what = `${esc(f.inFlight)} bytes in flight, stream offsets ${f.range.start}–${f.range.end - 1}, ${f.events} event(s), ` +
    `${f.changedBytes} byte(s) changed`;
  return `<li><b>${esc(f.kind)}</b> at <code>${esc(f.site ?? '?')}</code> — ${what}; <b>${f.status}</b>${proof}; ${esc(f.release)}
<details><summary>backtrace</summary><pre>${esc(f.backtrace.join('\n'))}</pre></details></li>`;
}

function connectionHtml(c: Conn, runDir: string): string {
  const dir = c.evidence && esc(relative(runDir, c.evidence.dir));
  const link = (f: string, text: string) => `<a href="${dir}/${f}">${text}</a>`;
  const ev = dir ? ` · ${link('', 'evidence')} (${link('case.pcapng', 'case.pcapng')}, ${link('hexdiff.txt', 'hexdiff.txt')})` : '';
  const wire = c.wire.capture === 'captured'
    ? `wire: ${c.wire.mismatchedBytes} byte(s) differ from I, ${c.wire.packets} packets` : 'wire: not captured';
  const calls = c.sends.byCall.map((b) => `${b.call}/${b.source} ×${b.calls}`).join(', ');
  const tuple = `${c.tuple.src}:${c.tuple.srcPort} → ${c.tuple.dst}:${c.tuple.dstPort}`;
  const badge = `<span class="badge" style="background:${COLOR[c.outcome]};color:#fff">${esc(c.verdict)} · ${c.outcome}</span>`;
  const shim = [...c.shim.blind, ...c.shim.notes, ...(c.shim.capReached ? [c.shim.capReached] : [])];
  return `<section><h3>Connection ${c.connection} ${badge}</h3>
<p class="muted">${esc(tuple)} · ${c.sends.bytes} bytes in ${c.sends.calls} send(s) (${esc(calls)}) · ${esc(wire)} · client read \
${c.received.bytes} bytes, ${c.received.mismatchedBytes} differ${ev}</p>
${c.findings.length ? `<ul>${c.findings.map(findingHtml).join('\n')}</ul>` : '<p>No finding.</p>'}
${c.unexplained ? `<p><b>Unexplained:</b> ${esc(c.unexplained)}</p>` : ''}
${c.reasons.length ? `<p class="muted">${esc(c.reasons.join('; '))}</p>` : ''}
${shim.map((b) => `<p class="muted">shim: ${esc(b)}</p>`).join('\n')}
</section>`;
}

const LEGEND = "I = the bytes at each send call as the shim saw them; W = the capture; R = what zcprobe's client read. " +
  '<b>proven</b>: a finding of the shim, and bytes in its range changed on the wire or at the client. <b>latent</b>: the program ' +
  'touched bytes in flight, but the changed bytes did not reach the wire this time. <b>unexplained</b>: changed bytes no finding ' +
  'covers (another process, or a path the shim does not see). <b>undecided</b>: a finding on an inconclusive connection.';

export function wrapHtml(s: WrapRunSummary): string {
  const counts = s.connections.reduce<Record<string, number>>((a, c) => ((a[c.outcome] = (a[c.outcome] ?? 0) + 1), a), {});
  const tally = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
  const how = (s.program.stoppedByUs ? ', stopped by zcprobe' : ', ended by itself') +
    (s.attached ? '' : '; <b>the shim did not attach</b>');
  const proven = s.firstProvenFindingMs === null ? 'none'
    : `${s.firstProvenFindingMs} ms after start` +
      (s.firstProvenVerdictMs ? `, reported proven ${s.firstProvenVerdictMs} ms after start` : '');
  const crash = s.crash
    ? `<h2>Crash</h2><p>signal ${s.crash.signal} in pid ${s.crash.pid}, blamed on ${esc(s.crash.blame)}</p>` +
      `<pre>${esc(s.crash.backtrace.join('\n'))}</pre>`
    : '';
  const csp = "default-src 'none'; style-src 'unsafe-inline'";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<title>zcprobe wrap: ${esc(s.command.join(' '))}</title><style>${CSS}</style></head><body>
<header><h1>zcprobe wrap</h1><p class="lead"><code>${esc(s.command.join(' '))}</code> — ${esc(tally)}</p></header><main>
<table class="facts">
<tr><th>program</th><td>${esc(s.exe)} (pid ${s.program.pid}, ${esc(s.program.exit)}${how})</td></tr>
<tr><th>link</th><td>${esc(s.transport.describe)}; listening on port ${s.port} after ${s.listeningAt - s.startedAt} ms</td></tr>
<tr><th>pages</th><td>${esc(s.transport.pageOwnership)}</td></tr>
<tr><th>first proven finding</th><td>${proven}</td></tr>
</table>
${crash}
<h2>Connections</h2>
${s.connections.map((c) => connectionHtml(c, s.runDir)).join('\n')}
<h2>How to read this</h2>
<p>${LEGEND}</p>
</main></body></html>
`;
}
