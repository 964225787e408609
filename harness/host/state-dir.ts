// Where zcprobe keeps its host-wide bookkeeping: /run/zcprobe (tmpfs, emptied at boot, like the
// namespaces and /dev/shm files it describes) for root; a per-user directory otherwise.
// ZCPROBE_STATE_DIR overrides it (tests use private ones).
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function stateDir(): string {
  if (process.env.ZCPROBE_STATE_DIR) return process.env.ZCPROBE_STATE_DIR;
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? '/run/zcprobe' : join(tmpdir(), `zcprobe-state-${uid}`);
}
