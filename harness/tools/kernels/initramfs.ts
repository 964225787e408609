// The guest's initramfs, built per kernel on the host: a static busybox, the virtio/ext4 modules that reach the root disk and an
// /init that mounts /dev/vda and hands over to guest-init.sh (Debian's kernel packages ship none; docs/kernels.md).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCpio, type CpioEntry } from './cpio.ts';
import { loadOrder, parseBuiltin, parseModulesDep } from './modules-dep.ts';

/** What the guest needs before its root exists. */
export const ROOT_DISK_MODULES = ['virtio_pci', 'virtio_blk', 'ext4'];

/** Printed by /init in probe mode: the accelerator probe waits for it on the console. */
export const PROBE_MARKER = 'ZCPROBE-PROBE-OK';

/** The project's guest init inside the root image (scripts/kernels/guest-init.sh). */
export const GUEST_INIT = '/opt/zcprobe/scripts/kernels/guest-init.sh';

// Every wait is bounded: the root disk must appear within 30 s (TCG boots are slow, not that slow).
const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod "/$m" || echo "zcprobe initramfs: insmod $m failed"; done
if grep -q zcprobe.probe /proc/cmdline; then
  echo "${PROBE_MARKER}"
  poweroff -f
fi
i=0
while [ ! -b /dev/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if ! mount -t ext4 -o rw /dev/vda /newroot; then
  echo "zcprobe initramfs: cannot mount /dev/vda"; poweroff -f
fi
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot ${GUEST_INIT}
echo "zcprobe initramfs: switch_root failed"; poweroff -f
`;

/** A module file as plain ELF: busybox insmod takes no compressed modules. */
function moduleBytes(path: string): Buffer {
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : path.endsWith('.gz') ? 'gzip' : null;
  if (!tool) return readFileSync(path);
  const r = spawnSync(tool, ['-dc', path], { maxBuffer: 256 << 20, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} -dc ${path} failed: ${r.stderr?.toString().trim() || r.error?.message}`);
  return r.stdout;
}

/** The initramfs (uncompressed newc cpio) for the kernel whose modules are in `modulesDir`
 * (…/lib/modules/<release>, with modules.dep), using the static busybox at `busybox`. */
export function buildInitramfs(opts: { modulesDir: string; busybox: string }): Buffer {
  const dep = parseModulesDep(readFileSync(join(opts.modulesDir, 'modules.dep'), 'utf8'));
  const builtin = parseBuiltin(readFileSync(join(opts.modulesDir, 'modules.builtin'), 'utf8'));
  const order = loadOrder(dep, builtin, ROOT_DISK_MODULES);
  const entries: CpioEntry[] = [
    { name: 'bin', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(opts.busybox) },
    { name: 'init', type: 'file', mode: 0o755, data: INIT },
    { name: 'modules', type: 'dir', mode: 0o755 },
  ];
  const listed: string[] = [];
  for (const [i, rel] of order.entries()) {
    const name = `modules/${String(i).padStart(2, '0')}-${rel.slice(rel.lastIndexOf('/') + 1).replace(/\.(xz|zst|gz)$/, '')}`;
    entries.push({ name, type: 'file', mode: 0o644, data: moduleBytes(join(opts.modulesDir, rel)) });
    listed.push(name);
  }
  entries.push({ name: 'modules.order', type: 'file', mode: 0o644, data: listed.join('\n') + '\n' });
  return buildCpio(entries);
}
