import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TesseraError } from '@tessera/core';

/** Encrypts tokens before they reach the backing store (AES-256-GCM), as the ACS guidance recommends. */
export interface TokenBox {
  /** `v1.` + base64url(iv ‖ tag ‖ ciphertext); `context` is bound as associated data (a row cannot be moved). */
  seal(plaintext: string, context: string): string;
  /** The plaintext, or undefined when the box was sealed with another key or for another context, or altered. */
  open(sealed: string, context: string): string | undefined;
}

/** Creates a {@link TokenBox} from a 32-byte key. */
export function createTokenBox(key: Uint8Array): TokenBox {
  if (key.length !== 32) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --encryption-key: must be base64 of exactly 32 bytes.', {
      target: 'encryption-key',
    });
  }
  const k = Buffer.from(key);
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
    },
    open(sealed, context) {
      if (!sealed.startsWith('v1.')) return undefined;
      const raw = Buffer.from(sealed.slice(3), 'base64url');
      if (raw.length < 29) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
