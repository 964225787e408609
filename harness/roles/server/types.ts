// One module per real server (nginx, apache2, lighttpd) behind this interface: a generated config for a
// site zcprobe made, the foreground command line, and how to read its access-log line — the server's own
// "done" for a response, which is when zcprobe serve changes the file.
import type { ServerName } from '../../model/serve-spec.ts';

export interface ServerSite {
  /** the server's work directory (configs, runtime files); logs and docroot are inside it or on the case's fs */
  dir: string;
  /** owned by `user`: some servers open their logs after dropping privileges */
  logsDir: string;
  docroot: string;
  host: string;
  port: number;
  family: 4 | 6;
  /** every setting resolved (harness/model/serve-spec.ts) */
  settings: Record<string, string>;
  /** the unprivileged user the workers run as (Debian: www-data) */
  user: string;
}

export interface ServerConfig {
  /** files to write before starting (the config), with their full text */
  files: { path: string; text: string }[];
  /** [binary, ...args]: foreground, this config only */
  argv: string[];
  /** the access log the done signal is read from */
  accessLog: string;
  /** logs that explain a failed start */
  errorLogs: string[];
  /** facts about how the site is set up that a reader of the case needs (e.g. a piped logger) */
  notes: string[];
}

/** One access-log line, parsed. */
export interface AccessLogEntry {
  /** the server's own timestamp of the line (the request's end), epoch ms */
  loggedAt: number;
  status: number;
  /** body bytes the server counted as sent (null: it logged "-") */
  bodyBytes: number | null;
  /** bytes including the header (null: not logged) */
  totalBytes: number | null;
  /** "GET /zc-1.bin HTTP/1.0" */
  request: string;
  line: string;
}

export interface ServerModule {
  name: ServerName;
  /** the Debian package that ships it (scripts/setup.sh installs it) */
  packageName: string;
  binary: string;
  /** prints the version: [args], and where (stdout or stderr) */
  versionArgs: string[];
  /** "nginx/1.22.1" from that output */
  parseVersion(output: string): string;
  configure(site: ServerSite): ServerConfig;
  parseLogLine(line: string): AccessLogEntry | null;
}

/** The common tail of every module's log format: status, body bytes, total bytes, "request". */
export function parseLogTail(line: string, loggedAt: number, rest: string): AccessLogEntry | null {
  const m = /^(\d{3}) (\d+|-) (\d+|-) (?:\S+ )?"(.*)"$/.exec(rest);
  if (!m || !Number.isFinite(loggedAt)) return null;
  const num = (s: string) => (s === '-' ? null : Number(s));
  return { loggedAt, status: Number(m[1]), bodyBytes: num(m[2]!), totalBytes: num(m[3]!), request: m[4]!, line };
}

/** A host as servers write it in a listen address: IPv6 in brackets. */
export const bracketed = (host: string): string => (host.includes(':') ? `[${host}]` : host);
