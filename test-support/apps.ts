// The example C programs of properties/fixtures/apps, built with `cc -g` once per test process into a
// temporary directory (removed at exit), and the line each buggy one marks with "zcprobe-expect: KIND".
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APPS = fileURLToPath(new URL('../properties/fixtures/apps/', import.meta.url));
let dir: string | null = null;
const built = new Map<string, string>();

/** Why the fixtures cannot be built here (no C compiler, no liburing headers), or null. */
export function appsUnavailableReason(name?: string): string | null {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore', timeout: 10000 });
  } catch {
    return 'no C compiler (apt-get install gcc)';
  }
  if (name?.startsWith('uring') && !existsSync('/usr/include/liburing.h')) return 'no liburing headers (apt-get install liburing-dev)';
  return null;
}

/** Builds properties/fixtures/apps/NAME.c (with -g); returns the binary's path. */
export function buildApp(name: string, opts: { static?: boolean } = {}): string {
  const key = `${name}${opts.static ? '-static' : ''}`;
  const have = built.get(key);
  if (have) return have;
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'zcprobe-apps-'));
    const d = dir;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  const out = join(dir, key);
  const libs = name.startsWith('uring') ? ['-luring'] : [];
  const args = ['-g', '-O1', '-Wall', ...(opts.static ? ['-static'] : []), '-o', out, join(APPS, `${name}.c`), ...libs];
  execFileSync('cc', args, { timeout: 60000 });
  built.set(key, out);
  return out;
}

/** "zc-refill.c:19": the line of NAME.c marked "zcprobe-expect: KIND". */
export function expectedSite(name: string, kind: string): string {
  const lines = readFileSync(join(APPS, `${name}.c`), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`zcprobe-expect: ${kind})`));
  if (i < 0) throw new Error(`${name}.c marks no line with "zcprobe-expect: ${kind}"`);
  return `${name}.c:${i + 1}`;
}
