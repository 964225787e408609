// Authentication of the control channel: TLS 1.3 with an external pre-shared key derived from a token file both machines hold;
// the token never crosses the wire, both ends are authenticated, a wrong key fails the handshake. Why TLS-PSK: docs/two-machines.md.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions, TlsOptions } from 'node:tls';

/** The PSK identity both ends use; not secret, it only versions the key derivation. */
export const PSK_IDENTITY = 'zcprobe-agent-v1';
const MIN_TOKEN_BYTES = 16;

/** The token in `path` (trailing newline dropped). Refuses a file other users may read, as ssh
 * does for keys, and a token too short to resist guessing. */
export function readTokenFile(path: string): Buffer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new Error(`token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (mode & 0o077) throw new Error(`token file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`);
  const token = readFileSync(path).toString('utf8').replace(/\r?\n$/, '');
  if (Buffer.byteLength(token) < MIN_TOKEN_BYTES) throw new Error(`token file ${path}: the token must have at least ${MIN_TOKEN_BYTES} bytes (e.g. head -c 32 /dev/urandom | base64 > ${path})`);
  return Buffer.from(token, 'utf8');
}

/** A fixed-length key from the token, bound to this protocol. */
export function pskFromToken(token: Buffer): Buffer {
  return createHash('sha256').update('zcprobe-psk-v1\0').update(token).digest();
}

const COMMON = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

export function serverTlsOptions(psk: Buffer): TlsOptions {
  return {
    ...COMMON,
    // Another identity is another protocol version or a stranger: no key, handshake fails.
    pskCallback: (_socket, identity) => (identity === PSK_IDENTITY ? psk : null),
    handshakeTimeout: 5000,
  };
}

export function clientTlsOptions(psk: Buffer): ConnectionOptions {
  return {
    ...COMMON,
    pskCallback: () => ({ psk, identity: PSK_IDENTITY }),
    // The PSK authenticates the agent; there is no certificate and no host name to check.
    checkServerIdentity: () => undefined,
  };
}
