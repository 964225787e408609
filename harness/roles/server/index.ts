// The server registry: one module per server (types.ts), and whether this host has it installed.
import { existsSync } from 'node:fs';
import type { ServerName } from '../../model/serve-spec.ts';
import { apache2 } from './apache2.ts';
import { lighttpd } from './lighttpd.ts';
import { nginx } from './nginx.ts';
import type { ServerModule } from './types.ts';

const MODULES: Record<ServerName, ServerModule> = { nginx, apache2, lighttpd };

export function serverModule(name: ServerName): ServerModule {
  return MODULES[name];
}

/** Why `name` cannot run here (one line), or null. */
export function serverUnavailable(name: ServerName): string | null {
  const m = MODULES[name];
  if (!existsSync(m.binary)) return `${name} is not installed (${m.binary} missing; apt-get install ${m.packageName}, or scripts/setup.sh)`;
  if (process.getuid?.() !== 0) return `${name}: zcprobe serve needs root (the server switches to www-data; tcpdump captures it)`;
  return null;
}

export type { AccessLogEntry, ServerConfig, ServerModule, ServerSite } from './types.ts';
