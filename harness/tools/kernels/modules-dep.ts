// Which kernel modules must be loaded, and in which order, for a set of wanted modules: read from
// modules.dep (written by depmod), so the initramfs carries just what the root disk needs.

/** "kernel/drivers/block/virtio_blk.ko.xz" → "virtio_blk" (depmod treats - and _ alike) */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** modules.dep text → module name → {path, deps (paths)} */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const map = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    map.set(moduleName(path), { path, deps });
  }
  return map;
}

/**
 * Paths of the modules to insmod, dependencies first, for `wanted` module names. A wanted module
 * listed in modules.builtin needs nothing; one that is neither a module nor built in is an error
 * (this kernel cannot do what the guest needs).
 */
export function loadOrder(
  dep: Map<string, { path: string; deps: string[] }>, builtin: ReadonlySet<string>, wanted: readonly string[],
): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    if (seen.has(name)) return;
    const entry = dep.get(name);
    if (!entry) {
      if (builtin.has(name)) return;
      throw new Error(`module ${name} is neither in modules.dep nor built in${chain.length ? ` (needed by ${chain.join(' ← ')})` : ''}`);
    }
    seen.add(name);
    for (const d of entry.deps) visit(moduleName(d), [name, ...chain]);
    order.push(entry.path);
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'), []);
  return order;
}

/** modules.builtin text ("kernel/fs/ext4/ext4.ko" per line) → names */
export function parseBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}
