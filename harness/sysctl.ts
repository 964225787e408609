// Save, set and restore one /proc/sys value for the length of a test. The restore is registered
// with registerCleanup, so an interrupted run (SIGINT/SIGTERM/exit) still puts the host back.
// fs/lease-break-time is guarded: with 0 the kernel never times a lease out (fl_break_time 0
// means "no break time"), so a writer would wait forever on a holder that never releases; only
// whole seconds ≥ 1 are accepted.
import { readFileSync, writeFileSync } from 'node:fs';
import { registerCleanup } from './cleanup.ts';

export interface SysctlOverride {
  /** "fs/lease-break-time" */
  key: string;
  /** the value before set, restored by restore() */
  previous: string;
  value: string;
  /** writes `previous` back (once; later calls do nothing) */
  restore(): void;
}

/** "fs.lease-break-time" or "fs/lease-break-time" → "fs/lease-break-time" */
export function sysctlKey(key: string): string {
  const k = key.includes('/') ? key.replace(/^\/proc\/sys\//, '') : key.replace(/\./g, '/');
  if (!/^[a-z0-9_/-]+$/i.test(k) || k.split('/').includes('..')) throw new Error(`not a sysctl key: "${key}"`);
  return k;
}

const pathOf = (key: string) => `/proc/sys/${sysctlKey(key)}`;

export function readSysctl(key: string): string {
  return readFileSync(pathOf(key), 'utf8').trim();
}

/** Values this module refuses to write, with why (checked before anything is changed). */
function refusal(key: string, value: string): string | null {
  if (key === 'fs/lease-break-time' && !(/^\d+$/.test(value) && Number(value) >= 1))
    return `refusing fs.lease-break-time=${value}: it must be a whole number of seconds ≥ 1 (0 makes a writer wait forever for a lease holder)`;
  return null;
}

/** Sets `key` to `value`, remembering the old value; call restore() (e.g. in after.always). */
export function setSysctl(key: string, value: string | number): SysctlOverride {
  const k = sysctlKey(key);
  const v = String(value).trim();
  const why = refusal(k, v);
  if (why) throw new Error(why);
  const previous = readSysctl(k);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    unregister();
    writeFileSync(pathOf(k), previous);
  };
  // Registered before the write: a signal arriving in between still restores.
  const unregister = registerCleanup(`sysctl ${k}=${previous}`, restore);
  try {
    writeFileSync(pathOf(k), v);
  } catch (e) {
    restored = true;
    unregister();
    throw e;
  }
  return { key: k, previous, value: v, restore };
}
