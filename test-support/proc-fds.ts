// A process's open fds as `N -> target`, less the ones Node's runtime opens and closes on its
// own schedule (libuv's eventfds and epoll fds, tsx's esbuild pipes and cache files), so that a
// before/after comparison sees only what a case could leak: sockets, files, tun and netns fds.
import { readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';

const RUNTIME = [/^anon_inode:\[eventfd\]$/, /^anon_inode:\[eventpoll\]$/, /^\/dev\/null$/, new RegExp(`^${tmpdir()}/tsx-`)];

/** `pipes`: keep pipes (a process that splices owns pipes a case could leak; in a child that never
 * makes one, they are the runtime's). */
export function caseFds(pid: number | 'self', opts: { pipes?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the readlink
    }
    if (!opts.pipes && target.startsWith('pipe:')) continue;
    if (!RUNTIME.some((re) => re.test(target))) out.push(`${fd} -> ${target}`);
  }
  return out.sort();
}
