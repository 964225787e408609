// zcprobe agent: the receiving machine's side of a two-host run. Serves the receiver role only
// (harness/roles/agent/server.ts) on the one address it is given, until SIGINT/SIGTERM.
import { parseHostPort } from '../roles/agent/address.ts';
import { pskFromToken, readTokenFile } from '../roles/agent/psk.ts';
import { AgentServer } from '../roles/agent/server.ts';
import { registerCleanup } from '../host/exit-hooks.ts';
import { flagValue, nonNegativeInt, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

const OPTIONS = {
  listen: { type: 'string', value: 'ADDR:PORT', help: 'the address senders reach this machine by, and the control port (required; IPv6: [ADDR]:PORT)' },
  'token-file': { type: 'string', value: '<file>', help: 'file holding the shared token, mode 600 (required; the same file content on the sender)' },
  iface: { type: 'string', value: '<name>', help: 'capture on this interface (default: the one the route back to each sender leaves by)' },
  'data-port': { type: 'string', value: '<port>', help: 'the port cases connect to (default: one the kernel picks per session)' },
  'exit-when-idle': { type: 'string', value: '<seconds>', help: 'exit once no sender has had a session for this long (CI; default: serve until SIGINT/SIGTERM)' },
} satisfies FlagSpecs;

const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);

export const command = defineCommand({
  name: 'agent',
  usage: '--listen ADDR:PORT --token-file FILE [flags]   (as root: it runs tcpdump)',
  options: OPTIONS,
  run: serveAgent,
});

async function serveAgent(flags: FlagValues<typeof OPTIONS>): Promise<number> {
  const listen = flagValue(flags, 'listen', parseHostPort);
  if (!listen) throw new UsageError('--listen ADDR:PORT is required');
  if (flags['token-file'] === undefined) throw new UsageError('--token-file FILE is required (the token is never taken from the command line)');
  const psk = flagValue(flags, 'token-file', (f) => pskFromToken(readTokenFile(f)))!;
  const dataPort = flagValue(flags, 'data-port', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`"${v}" is not a port (1-65535)`);
    return n;
  });
  const idleS = flagValue(flags, 'exit-when-idle', nonNegativeInt);
  if (idleS === 0) throw new UsageError('--exit-when-idle must be at least 1 second');
  const iface = flags.iface;
  const agent = await AgentServer.start({ ...listen, port: listen.port, psk, iface, dataPort, log });
  // The cleanup registry ends the session (its receiver and tcpdump) on SIGINT/SIGTERM.
  let finish!: () => void;
  const stopped = new Promise<void>((resolve) => (finish = resolve));
  const unregister = registerCleanup('zcprobe agent', () => agent.close().then(finish));
  log(`zcprobe agent listening on ${flags.listen} (TLS 1.3, pre-shared key); one sender at a time`);
  if (idleS !== undefined) {
    const timer = setInterval(() => {
      if (agent.idleMs < idleS * 1000) return;
      clearInterval(timer);
      log(`no sender for ${idleS} s: exiting`);
      unregister();
      void agent.close().then(finish);
    }, 1000);
  }
  await stopped;
  return 0;
}
