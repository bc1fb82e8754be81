import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TesseraError } from '@tessera/core';

/** Encrypts secrets at rest with AES-256-GCM under a master key that never enters the store. */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const VERSION = 'v1';

/** Creates a {@link SecretBox} from a 32-byte master key. Sealed form: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export function createSecretBox(masterKey: Uint8Array): SecretBox {
  if (masterKey.length !== 32) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The master key must be 32 bytes.', { target: 'master-key' });
  }
  const key = Buffer.from(masterKey);
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
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
        throw new TesseraError('ERR_CONFIG_INVALID', 'A stored secret is not in a known sealed format.', {
          target: 'master-key',
        });
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new TesseraError(
          'ERR_CONFIG_INVALID',
          'Stored secrets cannot be decrypted: the master key does not match the one this data was created with.',
          { target: 'master-key', cause },
        );
      }
    },
  };
}
