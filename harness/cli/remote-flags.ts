// --remote ADDR:PORT and --token-file FILE, shared by run, report and matrix: the receiver is a
// zcprobe agent (transport 'remote'). ZCPROBE_REMOTE / ZCPROBE_TOKEN_FILE are the defaults, so
// the property suites and scripts can use an agent without new flags.
import { parseHostPort } from '../roles/agent/address.ts';
import type { RemoteOptions } from '../roles/agent/remote-transport.ts';
import { UsageError, type FlagSpec, type Flags } from './args.ts';

export const REMOTE_FLAGS: Record<string, FlagSpec> = {
  remote: { value: 'ADDR:PORT', help: 'the receiver is a zcprobe agent there (transport remote; default $ZCPROBE_REMOTE)' },
  'token-file': { value: '<file>', help: "file holding the agent's shared token, mode 600 (default $ZCPROBE_TOKEN_FILE)" },
};

/** The agent the flags (or the environment) name, or undefined for a local run. */
export function remoteFromFlags(flags: Flags, env: NodeJS.ProcessEnv = process.env): RemoteOptions | undefined {
  const at = (flags.remote as string | undefined) ?? env.ZCPROBE_REMOTE;
  const tokenFile = (flags['token-file'] as string | undefined) ?? env.ZCPROBE_TOKEN_FILE;
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
