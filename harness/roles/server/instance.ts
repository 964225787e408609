// One running server for one setting: its site (config, logs, runtime files in a work dir of the
// session), the process group, its version, and the tail of its access log. Started once per
// setting and stopped by the session; its config is recorded with every case.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerName } from '../../model/serve-spec.ts';
import { AccessLogTail } from './access-log.ts';
import { serverModule } from './index.ts';
import { ServerProcess, ServerStartError } from './process.ts';
import type { ServerConfig, ServerModule } from './types.ts';

export interface ServerStartOptions {
  name: ServerName;
  /** every setting resolved */
  settings: Record<string, string>;
  host: string;
  port: number;
  family: 4 | 6;
  /** the sender side's namespace (a path), where the server runs; unset: ours */
  netnsPath?: string;
  /** an empty directory for this server's config, logs and runtime files */
  dir: string;
  /** the site's document root (on the case's filesystem) */
  docroot: string;
}

export interface ServerIdentity {
  name: ServerName;
  /** what the binary says, e.g. "nginx/1.22.1" */
  version: string;
  /** the Debian package and its version, e.g. "nginx 1.22.1-9+deb12u12" */
  package: string;
}

const USER = 'www-data';

function idsOf(user: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8', timeout: 5000 });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8', timeout: 5000 });
  const uid = Number(r.stdout?.trim());
  const gid = Number(g.stdout?.trim());
  if (r.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid))
    throw new ServerStartError(`user ${user} does not exist (the server packages create it)`);
  return { uid, gid };
}

export function serverIdentity(m: ServerModule): ServerIdentity {
  const v = spawnSync(m.binary, m.versionArgs, { encoding: 'utf8', timeout: 5000 });
  const pkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', m.packageName], { encoding: 'utf8', timeout: 5000 });
  const version = m.parseVersion(`${v.stdout ?? ''}${v.stderr ?? ''}`);
  return { name: m.name, version, package: `${m.packageName} ${pkg.status === 0 ? pkg.stdout.trim() : '(not from a package)'}` };
}

export class RunningServer {
  private constructor(
    readonly identity: ServerIdentity,
    readonly settings: Record<string, string>,
    readonly config: ServerConfig,
    readonly process: ServerProcess,
    readonly log: AccessLogTail,
    readonly module: ServerModule,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(o: ServerStartOptions): Promise<RunningServer> {
    const m = serverModule(o.name);
    const identity = serverIdentity(m);
    const logsDir = join(o.dir, 'logs');
    mkdirSync(join(o.dir, 'tmp'), { recursive: true, mode: 0o755 });
    mkdirSync(logsDir, { recursive: true, mode: 0o755 });
    const site = {
      dir: o.dir,
      logsDir,
      docroot: o.docroot,
      host: o.host,
      port: o.port,
      family: o.family,
      settings: o.settings,
      user: USER,
    };
    const config = m.configure(site);
    for (const f of config.files) writeFileSync(f.path, f.text);
    // Logs exist before the server starts (the tail follows them from the start) and belong to
    // the worker user: lighttpd opens its logs only after dropping privileges.
    const { uid, gid } = idsOf(USER);
    for (const f of [config.accessLog, ...config.errorLogs]) writeFileSync(f, '', { flag: 'a', mode: 0o644 });
    for (const p of [logsDir, config.accessLog, ...config.errorLogs]) chownSync(p, uid, gid);
    const outputFile = join(o.dir, 'output.log');
    const proc = await ServerProcess.start({
      name: o.name, argv: config.argv, netnsPath: o.netnsPath, outputFile, host: o.host, port: o.port, family: o.family,
      logs: config.errorLogs,
    });
    return new RunningServer(identity, o.settings, config, proc, new AccessLogTail(config.accessLog), m, o.host, o.port);
  }

  /** the generated config, as the server read it */
  get configText(): string {
    return this.config.files.map((f) => `# ${f.path}\n${f.text}`).join('\n');
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
