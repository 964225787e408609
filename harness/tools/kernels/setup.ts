// The host tools the kernels runner needs, installed with apt only when this feature is used:
// qemu (qemu-system-x86), debootstrap, depmod (kmod), mke2fs/debugfs (e2fsprogs), setpriv
// (util-linux: kills qemu when its parent dies).
import { hasCommand, run } from './exec.ts';

const TOOLS: { cmd: string; pkg: string }[] = [
  { cmd: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { cmd: 'debootstrap', pkg: 'debootstrap' },
  { cmd: 'depmod', pkg: 'kmod' },
  { cmd: 'mke2fs', pkg: 'e2fsprogs' },
  { cmd: 'debugfs', pkg: 'e2fsprogs' },
  { cmd: 'setpriv', pkg: 'util-linux' },
  { cmd: 'dpkg-deb', pkg: 'dpkg' },
];

/** Installs what is missing (root only); throws naming the packages when it cannot. */
export function ensureHostTools(log: (line: string) => void): void {
  const missing = [...new Set(TOOLS.filter((t) => !hasCommand(t.cmd)).map((t) => t.pkg))];
  if (!missing.length) return;
  if (process.getuid?.() !== 0) throw new Error(`missing host packages: ${missing.join(' ')} (run as root, or apt-get install them)`);
  log(`kernels: apt-get install ${missing.join(' ')}`);
  try {
    run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...missing], { timeoutMs: 600_000 });
  } catch {
    // a fresh machine may have no package lists yet
    run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
    run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...missing], { timeoutMs: 600_000 });
  }
}
