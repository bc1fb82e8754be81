import { describe, expect, it } from 'vitest';
import { createTokenBox } from '../../src/crypto/token-box.js';

describe('token cache encryption (AES-256-GCM)', () => {
  const box = createTokenBox(new Uint8Array(32).fill(1));

  it('round-trips, with a fresh IV each time', () => {
    const a = box.seal('eyJ.token.sig', 'row-1');
    const b = box.seal('eyJ.token.sig', 'row-1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('token');
    expect(box.open(a, 'row-1')).toBe('eyJ.token.sig');
  });

  it('refuses another key, another row (associated data) or a flipped bit', () => {
    const sealed = box.seal('secret', 'row-1');
    expect(createTokenBox(new Uint8Array(32).fill(2)).open(sealed, 'row-1')).toBeUndefined();
    expect(box.open(sealed, 'row-2')).toBeUndefined();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(box.open(`v1.${raw.toString('base64url')}`, 'row-1')).toBeUndefined();
  });

  it('needs a 32-byte key', () => {
    expect(() => createTokenBox(new Uint8Array(16))).toThrow(expect.objectContaining({ target: 'encryption-key' }));
  });
});
