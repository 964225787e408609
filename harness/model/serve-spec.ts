// What `zcprobe serve` runs, as plain data: a distribution server, its settings (declared and validated
// here per server, before anything starts), the mutation applied to the served file at the server's
// access-log line for the request, and the slow client.
import { parseFsSpec, type FsSpec } from './fs-spec.ts';
import { formatMutation, parseMutation, resolveMutation } from './mutation-spec.ts';
import { ExperimentError, formatSize, parseSize, type Mutation } from './experiment.ts';

export const SERVERS = ['nginx', 'apache2', 'lighttpd'] as const;
export type ServerName = (typeof SERVERS)[number];

export const SERVE_TRANSPORTS = ['loopback', 'veth', 'tun'] as const;
export type ServeTransport = (typeof SERVE_TRANSPORTS)[number];

/** The file mutations serve applies (overwrite changes a sender's memory: there is none here). */
export const SERVE_MUTATIONS = [
  'pwrite', 'pwrite:OFFSET:LENGTH', 'truncate:LENGTH', 'ftruncate', 'punch-hole:OFFSET:LENGTH', 'odirect-write', 'rename-replace',
  'reflink-then-write', 'copy-over', 'copytruncate'] as const;

export interface SettingDef {
  key: string;
  /** the accepted words; `size: true` also accepts a byte count (4096, 512KiB, 2MiB) */
  values: readonly string[];
  size?: boolean;
  /** as the Debian package ships the server (its config, else the server's built-in default) */
  default: string;
  /** what it becomes in the server's config */
  directive: string;
}

export const SERVER_SETTINGS: Record<ServerName, readonly SettingDef[]> = {
  nginx: [
    { key: 'sendfile', values: ['on', 'off'], default: 'on', directive: 'sendfile (Debian nginx.conf: on)' },
    { key: 'directio', values: ['off'], size: true, default: 'off', directive: 'directio: O_DIRECT reads for files of at least this size' },
    { key: 'aio', values: ['off', 'threads', 'on'], default: 'off', directive: 'aio (on needs nginx built --with-file-aio)' },
    { key: 'sendfile_max_chunk', values: [], size: true, default: '2MiB', directive: 'sendfile_max_chunk: bytes per sendfile() call' },
  ],
  apache2: [
    { key: 'sendfile', values: ['on', 'off'], default: 'off', directive: 'EnableSendfile (httpd default: Off)' },
    { key: 'mmap', values: ['on', 'off'], default: 'on', directive: 'EnableMMAP (httpd default: On)' },
  ],
  lighttpd: [
    { key: 'sendfile', values: ['on', 'off'], default: 'on', directive: 'on: server.network-backend "sendfile"; off: "writev"' },
    { key: 'network-backend', values: ['sendfile', 'writev', 'write'], default: 'sendfile', directive: 'server.network-backend' },
  ],
};

/** `--set` values as given (canonical: sizes in bytes), and every setting of the server resolved. */
export interface ServerSettings {
  given: Record<string, string>;
  resolved: Record<string, string>;
}

function settingValue(server: ServerName, def: SettingDef, raw: string): string {
  const v = raw.trim().toLowerCase();
  if (def.values.includes(v)) return v;
  if (def.size) {
    try {
      return String(parseSize(raw));
    } catch {
      /* named below */
    }
  }
  const choices = [...def.values, ...(def.size ? ['a size like 4096, 512KiB, 2MiB'] : [])];
  throw new ExperimentError('set', `${server} ${def.key}: "${raw}" is not one of ${choices.join(', ')}`);
}

/** "sendfile=on|off", "directio=off|SIZE", ... for help and error texts. */
export function settingChoices(server: ServerName): string[] {
  return SERVER_SETTINGS[server].map((d) => `${d.key}=${[...d.values, ...(d.size ? ['SIZE'] : [])].join('|')}`);
}

/** Parses `KEY=VALUE` strings for `server`; unknown keys and values are errors naming the choices. */
export function parseServerSettings(server: ServerName, pairs: readonly string[]): ServerSettings {
  const defs = SERVER_SETTINGS[server];
  const given: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    const def = defs.find((d) => d.key === key);
    if (!def) throw new ExperimentError(
      'set',
      `${server} has no setting "${eq > 0 ? key : pair}" (settings: ${settingChoices(server).join(', ')})`,
    );
    if (given[key] !== undefined) throw new ExperimentError('set', `${server} ${key} is set twice`);
    given[key] = settingValue(server, def, pair.slice(eq + 1));
  }
  const resolved: Record<string, string> = {};
  for (const d of defs) resolved[d.key] = given[d.key] ?? (d.size && d.default !== 'off' ? String(parseSize(d.default)) : d.default);
  if (server === 'lighttpd') {
    // sendfile is the cross-server name for lighttpd's backend choice: both may not disagree.
    const fromSendfile = given.sendfile === undefined ? undefined : given.sendfile === 'on' ? 'sendfile' : 'writev';
    if (fromSendfile && given['network-backend'] && given['network-backend'] !== fromSendfile)
      throw new ExperimentError('set', `lighttpd sendfile=${given.sendfile} contradicts network-backend=${given['network-backend']}`);
    resolved['network-backend'] = given['network-backend'] ?? fromSendfile ?? resolved['network-backend']!;
    resolved.sendfile = resolved['network-backend'] === 'sendfile' ? 'on' : 'off';
  }
  return { given, resolved };
}

/** "sendfile=on,directio=4MiB" (as given), or "defaults". */
export function settingsLabel(given: Record<string, string>): string {
  const keys = Object.keys(given).sort();
  if (!keys.length) return 'defaults';
  return keys.map((k) => `${k}=${/^\d+$/.test(given[k]!) ? formatSize(Number(given[k])) : given[k]}`).join(',');
}

/** The identity of one server start: every resolved setting. */
export function settingsKey(resolved: Record<string, string>): string {
  return Object.keys(resolved).sort().map((k) => `${k}=${resolved[k]}`).join(',');
}

export interface ServeExperiment {
  server: ServerName;
  settings: ServerSettings;
  /** applied to the served file right after the server's access-log line for the request */
  mutation: Mutation;
  /** bytes of the served file (the response body) */
  size: number;
  /** the client sleeps this long after writing its request, before its first read */
  clientDelayMs: number;
  /** the client's SO_RCVBUF(FORCE), set before connect; undefined = kernel default */
  rcvbuf?: number;
  transport: ServeTransport;
  family: 4 | 6;
  /** where the docroot (and so the served file) lives */
  fs: FsSpec;
}

export const SERVE_MAX_SIZE = 1 << 30;

export type ServePartial = Omit<Partial<ServeExperiment>, 'server' | 'settings' | 'transport'> & {
  server: string;
  settings?: ServerSettings | string[];
  transport?: string;
};

export function makeServeExperiment(p: ServePartial): ServeExperiment {
  if (!(SERVERS as readonly string[]).includes(p.server))
    throw new ExperimentError('server', `"${p.server}" is not one of ${SERVERS.join(', ')}`);
  const server = p.server as ServerName;
  const settings = Array.isArray(p.settings) || p.settings === undefined ? parseServerSettings(server, p.settings ?? []) : p.settings;
  const size = p.size ?? 1 << 20;
  if (!Number.isInteger(size) || size < 1 || size > SERVE_MAX_SIZE)
    throw new ExperimentError('size', `size must be from 1 B to 1 GiB, got ${size}`);
  let mutation: Mutation;
  try {
    const spec = parseMutation(p.mutation ?? 'pwrite');
    if (spec.kind === 'overwrite')
      throw new Error(`overwrite changes a sender's memory; serve changes the served file: ${SERVE_MUTATIONS.join(', ')}`);
    mutation = formatMutation(spec) as Mutation;
    resolveMutation(mutation, size);
  } catch (e) {
    throw new ExperimentError('mutation', (e as Error).message);
  }
  const transport = (p.transport ?? 'loopback') as ServeTransport;
  if (!SERVE_TRANSPORTS.includes(transport))
    throw new ExperimentError('transport', `"${transport}" is not one of ${SERVE_TRANSPORTS.join(', ')}`);
  const family = p.family ?? 4;
  if (family !== 4 && family !== 6) throw new ExperimentError('family', 'family must be 4 or 6');
  const clientDelayMs = p.clientDelayMs ?? 0;
  if (!Number.isFinite(clientDelayMs) || clientDelayMs < 0)
    throw new ExperimentError('clientDelayMs', 'the client delay must be a non-negative number of ms');
  if (p.rcvbuf !== undefined && (!Number.isInteger(p.rcvbuf) || p.rcvbuf < 1024 || p.rcvbuf > 1 << 30))
    throw new ExperimentError('rcvbuf', 'rcvbuf must be from 1KiB to 1GiB');
  let fs: FsSpec;
  try {
    fs = parseFsSpec(p.fs ?? 'tmpfs');
  } catch (e) {
    throw new ExperimentError('fs', (e as Error).message);
  }
  const rcvbuf = p.rcvbuf !== undefined ? { rcvbuf: p.rcvbuf } : {};
  return { server, settings, mutation, size, clientDelayMs, ...rcvbuf, transport, family, fs };
}
