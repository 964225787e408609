// zcprobe wrap: runs the user's program under the preload shim on the sender side, connects to it N
// times as a slow client, captures each connection and decides it with the existing verdict; prints one
// line (or JSON object) per connection with the shim's findings (file:line, backtrace, byte range, the
// frames proving them), writes an evidence bundle per non-clean connection, wrap.json and wrap.html.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findConnection, type ShimConnection } from '../capture/shim-streams.ts';
import { formatFrame, isDynamicElf, symbolize } from '../capture/symbols.ts';
import { parseDurationMs, parseSize } from '../model/experiment.ts';
import { describeExit, ProgramError, resolveCommand } from '../roles/wrapped/program.ts';
import { runWrapped, type WrapRunOptions, type WrapRunResult } from '../session/wrap-run.ts';
import { CAPTURES_DIR, newRunId } from '../session/session.ts';
import { decideWrapConnection, type WrapConnectionReport } from '../verdict/wrap-verdict.ts';
import { writeWrapEvidence } from '../evidence/wrap-bundle.ts';
import { wrapHtml, type WrapRunSummary } from '../report/wrap-html.ts';
import { flagValue, nonNegativeInt, oneOf, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

export const SHIM = fileURLToPath(new URL('../../build/Release/zcshim.so', import.meta.url));
const DEFAULT_CAP = 256 << 20;

const OPTIONS = {
  port: { type: 'string', value: '<port>', help: 'the port the program listens on (default: the first port it listens on)' },
  request: { type: 'string', value: '<text>', help: 'bytes the client writes after connecting (\\r \\n \\t \\xHH escapes)' },
  connections: { type: 'string', value: '<n>', help: 'connections, one after another (default 1)' },
  'client-delay-ms': { type: 'string', value: '<ms>', help: 'the client waits this long before its first read (default 300)' },
  rcvbuf: { type: 'string', value: '<size>', help: "the client's SO_RCVBUF (default: kernel autotuning)" },
  transport: { type: 'string', value: 'loopback|veth|tun', help: 'the program runs on the sender side of this link (default loopback)' },
  family: { type: 'string', value: '4|6', help: 'IP version the client connects with (default 4)' },
  'listen-timeout-ms': { type: 'string', value: '<ms>', help: 'bound on the wait until the program listens (default 10000)' },
  'snapshot-cap': {
    type: 'string', value: '<size>',
    help: `send snapshots the shim keeps per process (default ${DEFAULT_CAP >> 20}MiB; past it: I unknown, inconclusive)`,
  },
  'no-protect': { type: 'boolean', help: 'no write protection: findings from calls only (free, close, file writes), no write attribution' },
  json: { type: 'boolean', help: 'one JSON object per connection' },
} satisfies FlagSpecs;

/** "GET / HTTP/1.0\r\n\r\n" as typed on a command line → bytes. */
export function unescapeRequest(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) { out.push(...Buffer.from(c)); continue; }
    const n = s[++i]!;
    if (n === 'r') out.push(13);
    else if (n === 'n') out.push(10);
    else if (n === 't') out.push(9);
    else if (n === '\\') out.push(92);
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else throw new UsageError(`--request: unknown escape \\${n} (allowed: \\r \\n \\t \\\\ \\xHH)`);
  }
  return Buffer.from(out);
}

/** What the flags decide: the run's own options, plus the output form. */
export type WrapFlags = Pick<WrapRunOptions,
  'command' | 'port' | 'request' | 'connections' | 'clientDelayMs' | 'rcvbuf' | 'transport' | 'family'
  | 'listenTimeoutMs' | 'snapshotCap' | 'protect'> & { json: boolean };

export function wrapFlags(flags: FlagValues<typeof OPTIONS>, command: string[]): WrapFlags {
  if (!command.length) throw new UsageError('no command: zcprobe wrap [flags] -- CMD [ARGS...]');
  const port = flagValue(flags, 'port', nonNegativeInt);
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--port: ${port} is not a TCP port`);
  const connections = flagValue(flags, 'connections', nonNegativeInt) ?? 1;
  if (connections < 1) throw new UsageError('--connections must be at least 1');
  return {
    command,
    port,
    request: flags.request === undefined ? undefined : unescapeRequest(String(flags.request)),
    connections,
    clientDelayMs: flagValue(flags, 'client-delay-ms', parseDurationMs) ?? 300,
    rcvbuf: flagValue(flags, 'rcvbuf', parseSize),
    transport: flagValue(flags, 'transport', oneOf(['loopback', 'veth', 'tun'] as const)) ?? 'loopback',
    family: flagValue(flags, 'family', (v) => Number(oneOf(['4', '6'] as const)(v)) as 4 | 6) ?? 4,
    listenTimeoutMs: flagValue(flags, 'listen-timeout-ms', parseDurationMs) ?? 10000,
    snapshotCap: flagValue(flags, 'snapshot-cap', parseSize) ?? DEFAULT_CAP,
    protect: !flags['no-protect'],
    json: Boolean(flags.json),
  };
}

function formatLine(r: WrapConnectionReport, ev: string | undefined): string {
  const frames = (x: WrapConnectionReport['findings'][number]) => (x.proof?.frames.length ? `, frames ${x.proof.frames.join(',')}` : '');
  const where = (x: WrapConnectionReport['findings'][number]) => `stream ${x.range.start}–${x.range.end - 1}`;
  const f = r.findings.map((x) => `${x.kind} at ${x.site ?? '?'} (${x.inFlight}, ${where(x)}, ${x.status}${frames(x)})`);
  const tail = [...f, ...(r.unexplained ? [r.unexplained] : []), ...r.reasons].join('; ');
  const head = `connection ${r.connection}: ${r.verdict} (${r.outcome}), ${r.sends.bytes} bytes in ${r.sends.calls} send(s)`;
  return `${head}${tail ? ' — ' + tail : ''}${ev ? ` [evidence ${ev}]` : ''}`;
}

/** The program's crash, if the shim logged one: signal, resolved backtrace, and whose fault it was. */
function crashOf(result: WrapRunResult): WrapRunSummary['crash'] {
  for (const log of result.logs) {
    const c = log.events.find((e) => e.ev === 'crash');
    if (!c || c.ev !== 'crash') continue;
    const frames = symbolize(log.maps, [{ bt: c.bt, exact: true }])[0]!;
    const blame = c.inShim ? 'the shim (a zcprobe bug), not the program' : 'the program';
    return { pid: log.pid, signal: c.sig, inShim: c.inShim === 1, backtrace: frames.map(formatFrame), blame };
  }
  return undefined;
}

export const command = defineCommand({
  name: 'wrap',
  usage: '[flags] -- CMD [ARGS...]',
  about: 'Runs CMD under the preload shim on the sender side, connects to it as a slow client and proves premature reuse on the wire.',
  options: OPTIONS,
  positionals: true,
  rest: true,
  run: (flags, positional, rest) => run(wrapFlags(flags, [...positional, ...(rest ?? [])])),
});

async function run(f: WrapFlags): Promise<number> {
  const exe = resolveCommand(f.command[0]!);
  if (!exe) {
    process.stderr.write(`zcprobe wrap: command not found: ${f.command[0]}\n`);
    return 1;
  }
  if (isDynamicElf(exe) === false) {
    process.stderr.write(`zcprobe wrap: ${exe} is statically linked: the shim cannot attach (LD_PRELOAD needs the dynamic loader); ` +
      'build it without -static\n');
    return 1;
  }
  if (!existsSync(SHIM)) {
    process.stderr.write(`zcprobe wrap: the shim ${SHIM} is not built (npm ci, or npm run build:native)\n`);
    return 1;
  }
  const runDir = join(CAPTURES_DIR, newRunId());
  let result: WrapRunResult;
  try {
    result = await runWrapped({
      command: f.command, port: f.port, request: f.request, connections: f.connections, clientDelayMs: f.clientDelayMs, rcvbuf: f.rcvbuf,
      transport: f.transport, family: f.family, shim: SHIM, snapshotCap: f.snapshotCap, protect: f.protect,
      listenTimeoutMs: f.listenTimeoutMs, stopGraceMs: 2000, connectionTimeoutMs: 30000 + f.clientDelayMs,
    });
  } catch (e) {
    if (!(e instanceof ProgramError)) throw e;
    process.stderr.write(`zcprobe wrap: ${e.message}\n`);
    return 1;
  }
  try {
    const reports: WrapConnectionReport[] = [];
    const shims: (ShimConnection | null)[] = [];
    let firstProvenAt: number | null = null;
    for (const c of result.connections) {
      const { src, srcPort, dst, dstPort } = c.connection;
      const shim = c.connectError ? null : findConnection(result.logs, { address: src, port: srcPort }, { address: dst, port: dstPort });
      const r = decideWrapConnection(c, shim, { delayMs: f.clientDelayMs, rcvbuf: f.rcvbuf });
      if (firstProvenAt === null && r.outcome === 'proven') firstProvenAt = Date.now();
      let evidence: string | undefined;
      if (r.verdict !== 'clean' || r.findings.length) {
        const paths = writeWrapEvidence(join(runDir, `conn-${r.connection}`), r, c, shim, f.command);
        evidence = paths.dir;
        r.evidence = paths;
      }
      const { streams: _s, ...printed } = r;
      process.stdout.write((f.json ? JSON.stringify(printed) : formatLine(r, evidence)) + '\n');
      reports.push(r);
      shims.push(shim);
    }
    const attached = result.logs.some((l) => l.pid === result.program.pid || l.exe === exe);
    const crash = crashOf(result);
    const exit = result.program.exit;
    const summary: WrapRunSummary = {
      command: f.command, exe, runDir, transport: result.transport, port: result.port,
      startedAt: result.startedAt, listeningAt: result.listeningAt,
      program: {
        pid: result.program.pid, exit: describeExit(exit), stoppedByUs: exit.stoppedByUs, killedAfterGrace: exit.killed,
        stderrTail: result.program.stderrTail,
      },
      attached,
      firstProvenFindingMs: firstProven(reports, result.startedAt),
      firstProvenVerdictMs: firstProvenAt === null ? null : firstProvenAt - result.startedAt,
      connections: reports.map(({ streams: _s, ...r }) => r),
      shimStats: result.logs.map((l) => ({
        pid: l.pid, exe: l.exe, exit: l.events.find((e) => e.ev === 'exit') ?? null, unreadableLines: l.unreadable,
      })),
      ...(crash ? { crash } : {}),
    };
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'wrap.json'), JSON.stringify(summary, null, 2) + '\n');
    writeFileSync(join(runDir, 'wrap.html'), wrapHtml(summary));
    const note = (s: string) => process.stderr.write(`zcprobe wrap: ${s}\n`);
    if (!attached) note(`the shim did not attach to ${exe} (no log from it): a setuid program, or one that clears LD_PRELOAD`);
    const stderr = result.program.stderrTail.trim();
    const tail = stderr ? `; stderr: ${stderr.split('\n').slice(-5).join(' | ')}` : '';
    if (!exit.stoppedByUs) note(`the program ended during the run (${describeExit(exit)})${tail}`);
    if (crash) note(`crash: signal ${crash.signal} in pid ${crash.pid}, blamed on ${crash.blame}\n  ${crash.backtrace.join('\n  ')}`);
    note(`report: ${join(runDir, 'wrap.html')}`);
    return crash || !exit.stoppedByUs ? 1 : 0;
  } finally {
    result.cleanup();
  }
}

function firstProven(reports: WrapConnectionReport[], startedAt: number): number | null {
  const ts = reports.flatMap((r) => r.findings.filter((x) => x.status === 'proven').map((x) => x.firstAt));
  return ts.length ? Math.round(Math.min(...ts) - startedAt) : null;
}
