// ADDR:PORT as the agent and --remote take it: IP literals only, IPv6 in brackets.
import { isIP } from 'node:net';

/** "10.0.0.2:7070" or "[fd00::2]:7070" → host and port; only IP literals, never a wildcard:
 * the agent binds exactly the address it is given. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not ADDR:PORT (IPv6: [ADDR]:PORT)`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (!isIP(host)) throw new Error(`"${host}" is not an IP address`);
  if (/^[0:.]+$/.test(host)) throw new Error(`"${host}" is a wildcard: give the one address the sender reaches this machine by`);
  if (!(port >= 1 && port <= 65535)) throw new Error(`port ${m[2]} is not 1-65535`);
  return { host, port };
}

export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
