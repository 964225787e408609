// zcprobe serve: a real server (nginx, apache2, lighttpd) serves a file to zcprobe's slow client; the
// file changes the moment the server logs the response as done; one verdict line (or JSON) per case.
import { ExperimentError, parseDurationMs, parseSize } from '../model/experiment.ts';
import { FS_SPECS_HELP, parseFsSpec } from '../model/fs-spec.ts';
import {
  makeServeExperiment,
  SERVE_MUTATIONS,
  SERVE_TRANSPORTS,
  settingChoices,
  SERVERS,
  type ServeExperiment,
} from '../model/serve-spec.ts';
import { ServerStartError } from '../roles/server/process.ts';
import { runServe, type ServeOutcome } from '../suites/serve.ts';
import { formatServeLine } from '../verdict/serve-report.ts';
import { flagValue, nonNegativeInt, oneOf, UsageError, type FlagSpecs, type FlagValues } from './args.ts';
import { defineCommand } from './command.ts';

const settingsHelp = SERVERS.map((s) => `${s}: ${settingChoices(s).join(' ')}`).join('; ');

const OPTIONS = {
  server: { type: 'string', value: '<name>', help: `${SERVERS.join(', ')} (required)` },
  set: { type: 'string', multiple: true, value: 'KEY=VALUE', help: `a server setting; repeatable (${settingsHelp})` },
  mutation: {
    type: 'string',
    value: '<kind>',
    help: `done to the served file at the access-log line: ${SERVE_MUTATIONS.join(', ')} (default pwrite)`,
  },
  fs: { type: 'string', value: '<fs>', help: `where the docroot lives: ${FS_SPECS_HELP.join(', ')} (default tmpfs)` },
  size: { type: 'string', value: '<size>', help: 'bytes of the served file, e.g. 64KiB, 4MiB (default 1MiB)' },
  'client-delay-ms': { type: 'string', value: '<ms>', help: 'the client sleeps this long after its request before reading (default 0)' },
  rcvbuf: { type: 'string', value: '<size>', help: "the client's SO_RCVBUF, set before connect (default: kernel autotuning)" },
  transport: { type: 'string', value: '<name>', help: `${SERVE_TRANSPORTS.join(', ')} (default loopback); the server is the sender side` },
  family: { type: 'string', value: '4|6', help: 'IP version (default 4)' },
  repeat: { type: 'string', value: '<n>', help: 'run the case n times (default 1)' },
  json: { type: 'boolean', help: 'print one JSON object per case' },
} satisfies FlagSpecs;

export function serveFromFlags(flags: FlagValues<typeof OPTIONS>): { exp: ServeExperiment; repeat: number; json: boolean } {
  if (!flags.server) throw new UsageError(`--server is required (allowed: ${SERVERS.join(', ')})`);
  const repeat = flagValue(flags, 'repeat', nonNegativeInt) ?? 1;
  if (repeat < 1) throw new UsageError('--repeat must be at least 1');
  try {
    const exp = makeServeExperiment({
      server: flags.server,
      settings: flags.set ?? [],
      mutation: flags.mutation as ServeExperiment['mutation'] | undefined,
      size: flagValue(flags, 'size', parseSize),
      clientDelayMs: flagValue(flags, 'client-delay-ms', parseDurationMs),
      rcvbuf: flagValue(flags, 'rcvbuf', parseSize),
      transport: flags.transport,
      family: flagValue(flags, 'family', (v) => Number(oneOf(['4', '6'] as const)(v)) as 4 | 6),
      fs: flagValue(flags, 'fs', parseFsSpec),
    });
    return { exp, repeat, json: Boolean(flags.json) };
  } catch (e) {
    if (e instanceof ExperimentError) {
      throw new UsageError(`--${e.field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${e.message}`);
    }
    throw e;
  }
}

function print(o: ServeOutcome, json: boolean): void {
  if (o.kind === 'case') process.stdout.write((json ? JSON.stringify(o.record) : formatServeLine(o.record)) + '\n');
  else {
    const e = o.exp;
    const skipped = { skipped: o.reason, server: e.server, mutation: e.mutation, fs: e.fs };
    process.stdout.write((json ? JSON.stringify(skipped) : `${e.server} ${e.mutation} fs=${e.fs} → skipped: ${o.reason}`) + '\n');
  }
}

export const command = defineCommand({
  name: 'serve',
  usage: '--server nginx|apache2|lighttpd [--set KEY=VALUE ...] [--mutation M] [--fs F] [--size S] [--client-delay-ms MS] [flags]',
  about: 'A real server serves a file to zcprobe\'s slow client; the file changes once its access-log line says the response is done.',
  options: OPTIONS,
  async run(flags) {
    const { exp, repeat, json } = serveFromFlags(flags);
    try {
      await runServe({ experiments: [exp], repeat, onOutcome: (o) => print(o, json), startFailure: 'throw' });
    } catch (e) {
      if (!(e instanceof ServerStartError)) throw e;
      process.stderr.write(`zcprobe serve: ${e.message}\n`);
      return 1;
    }
    return 0;
  },
});
