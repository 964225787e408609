// --remote ADDR:PORT and --token-file FILE, shared by run, report and matrix: the receiver is a
// zcprobe agent (transport 'remote'). ZCPROBE_REMOTE / ZCPROBE_TOKEN_FILE are the defaults, so
// the property suites and scripts can use an agent without new flags.
import { parseHostPort } from '../roles/agent/address.ts';
import type { RemoteOptions } from '../roles/agent/remote-transport.ts';
import { UsageError, type FlagSpecs, type FlagValues } from './args.ts';

export const REMOTE_FLAGS = {
  remote: { type: 'string', value: 'ADDR:PORT', help: 'the receiver is a zcprobe agent there (transport remote; default $ZCPROBE_REMOTE)' },
  'token-file': { type: 'string', value: '<file>', help: "file holding the agent's shared token, mode 600 (default $ZCPROBE_TOKEN_FILE)" },
} satisfies FlagSpecs;

/** The agent the flags (or the environment) name, or undefined for a local run. */
export function remoteFromFlags(flags: FlagValues<typeof REMOTE_FLAGS>, env: NodeJS.ProcessEnv = process.env): RemoteOptions | undefined {
  const at = flags.remote ?? env.ZCPROBE_REMOTE;
  const tokenFile = flags['token-file'] ?? env.ZCPROBE_TOKEN_FILE;
  if (!at) {
    if (flags['token-file'] !== undefined) throw new UsageError('--token-file needs --remote ADDR:PORT');
    return undefined;
  }
  if (!tokenFile) throw new UsageError('--remote needs --token-file FILE (or ZCPROBE_TOKEN_FILE): the agent\'s shared token');
  try {
    return { ...parseHostPort(at), tokenFile };
  } catch (e) {
    throw new UsageError(`--remote: ${(e as Error).message}`);
  }
}
