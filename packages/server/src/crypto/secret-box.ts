import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TesseraError } from '@tessera/core';

/** Encrypts secrets at rest with AES-256-GCM under a master key that never enters the store. */
export interface SecretBox {
  /** Seals under the current master key. */
  seal(plaintext: string): string;
  /** Opens a secret sealed under the current master key or any previous one. */
  open(sealed: string): string;
  /** Whether `sealed` is under the current master key (master key rotation re-seals the others). */
  isCurrent(sealed: string): boolean;
}

const VERSION = 'v1';

function assertKey(masterKey: Uint8Array): Buffer {
  if (masterKey.length !== 32) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The master key must be 32 bytes.', { target: 'master-key' });
  }
  return Buffer.from(masterKey);
}

/** The plaintext, or undefined when `key` did not seal it (GCM authentication fails). */
function tryOpen(key: Buffer, iv: string, tag: string, body: string): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function parts(sealed: string): [string, string, string] {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'A stored secret is not in a known sealed format.', {
      target: 'master-key',
    });
  }
  return [iv, tag, body];
}

/**
 * Creates a {@link SecretBox} from a 32-byte master key, plus the previous master keys still accepted while a
 * rotation re-seals the store (docs/key-rotation.md). Sealed form: `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
export function createSecretBox(masterKey: Uint8Array, previous: readonly Uint8Array[] = []): SecretBox {
  const key = assertKey(masterKey);
  const keys = [key, ...previous.map(assertKey)];
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [iv, tag, body] = parts(sealed);
      for (const candidate of keys) {
        const plaintext = tryOpen(candidate, iv, tag, body);
        if (plaintext !== undefined) return plaintext;
      }
      throw new TesseraError(
        'ERR_CONFIG_INVALID',
        previous.length === 0
          ? 'Stored secrets cannot be decrypted: the master key does not match the one this data was created with.'
          : 'Stored secrets cannot be decrypted with the master key or any previous master key given.',
        { target: 'master-key' },
      );
    },
    isCurrent(sealed) {
      const [iv, tag, body] = parts(sealed);
      return tryOpen(key, iv, tag, body) !== undefined;
    },
  };
}
