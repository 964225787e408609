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
const COLOR: Record<string, string> = { proven: '#b3261e', unexplained: '#a15c00', latent: '#7a5b00', clean: '#1e7b38', inconclusive: '#555' };

function connectionHtml(c: WrapRunSummary['connections'][number], runDir: string): string {
  const ev = c.evidence ? ` · <a href="${esc(relative(runDir, c.evidence.dir))}/">evidence</a> (<a href="${esc(relative(runDir, c.evidence.dir))}/case.pcapng">case.pcapng</a>, <a href="${esc(relative(runDir, c.evidence.dir))}/hexdiff.txt">hexdiff.txt</a>)` : '';
  const findings = c.findings.map((f) => `<li><b>${esc(f.kind)}</b> at <code>${esc(f.site ?? '?')}</code> — ${esc(f.inFlight)} bytes in flight, stream offsets ${f.range.start}–${f.range.end - 1}, ${f.events} event(s), ${f.changedBytes} byte(s) changed; <b>${f.status}</b>${f.proof ? ` (wire: ${f.proof.wireBytes} changed byte(s), client: ${f.proof.receivedBytes}${f.proof.frames.length ? `, frames ${f.proof.frames.join(', ')}` : ''})` : ''}; ${esc(f.release)}
<details><summary>backtrace</summary><pre>${esc(f.backtrace.join('\n'))}</pre></details></li>`).join('\n');
  const wire = 'iface' in c.wire && c.wire.capture === 'captured' ? `wire: ${c.wire.mismatchedBytes} byte(s) differ from I, ${c.wire.packets} packets` : 'wire: not captured';
  return `<section><h3>Connection ${c.connection} <span class="badge" style="background:${COLOR[c.outcome]};color:#fff">${esc(c.verdict)} · ${c.outcome}</span></h3>
<p class="muted">${esc(`${c.tuple.src}:${c.tuple.srcPort} → ${c.tuple.dst}:${c.tuple.dstPort}`)} · ${c.sends.bytes} bytes in ${c.sends.calls} send(s) (${esc(c.sends.byCall.map((b) => `${b.call}/${b.source} ×${b.calls}`).join(', '))}) · ${esc(wire)} · client read ${c.received.bytes} bytes, ${c.received.mismatchedBytes} differ${ev}</p>
${c.findings.length ? `<ul>${findings}</ul>` : '<p>No finding.</p>'}
${c.unexplained ? `<p><b>Unexplained:</b> ${esc(c.unexplained)}</p>` : ''}
${c.reasons.length ? `<p class="muted">${esc(c.reasons.join('; '))}</p>` : ''}
${[...c.shim.blind, ...c.shim.notes, ...(c.shim.capReached ? [c.shim.capReached] : [])].map((b) => `<p class="muted">shim: ${esc(b)}</p>`).join('\n')}
</section>`;
}

export function wrapHtml(s: WrapRunSummary): string {
  const tally = Object.entries(s.connections.reduce<Record<string, number>>((a, c) => ((a[c.outcome] = (a[c.outcome] ?? 0) + 1), a), {})).map(([k, n]) => `${n} ${k}`).join(', ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>zcprobe wrap: ${esc(s.command.join(' '))}</title><style>${CSS}</style></head><body>
<header><h1>zcprobe wrap</h1><p class="lead"><code>${esc(s.command.join(' '))}</code> — ${esc(tally)}</p></header><main>
<table class="facts">
<tr><th>program</th><td>${esc(s.exe)} (pid ${s.program.pid}, ${esc(s.program.exit)}${s.program.stoppedByUs ? ', stopped by zcprobe' : ', ended by itself'}${s.attached ? '' : '; <b>the shim did not attach</b>'})</td></tr>
<tr><th>link</th><td>${esc(s.transport.describe)}; listening on port ${s.port} after ${s.listeningAt - s.startedAt} ms</td></tr>
<tr><th>pages</th><td>${esc(s.transport.pageOwnership)}</td></tr>
<tr><th>first proven finding</th><td>${s.firstProvenFindingMs === null ? 'none' : `${s.firstProvenFindingMs} ms after start${s.firstProvenVerdictMs ? `, proven ${s.firstProvenVerdictMs} ms after start` : ''}`}</td></tr>
</table>
${s.crash ? `<h2>Crash</h2><p>signal ${s.crash.signal} in pid ${s.crash.pid}, blamed on ${esc(s.crash.blame)}</p><pre>${esc(s.crash.backtrace.join('\n'))}</pre>` : ''}
<h2>Connections</h2>
${s.connections.map((c) => connectionHtml(c, s.runDir)).join('\n')}
<h2>How to read this</h2>
<p>I = the bytes at each send call as the shim saw them; W = the capture; R = what zcprobe's client read. <b>proven</b>: a finding of the shim, and bytes in its range changed on the wire or at the client. <b>latent</b>: the program touched bytes in flight, but the changed bytes did not reach the wire this time. <b>unexplained</b>: changed bytes no finding covers (another process, or a path the shim does not see).</p>
</main></body></html>
`;
}
