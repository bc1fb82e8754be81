import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { portableBytesToBase64 } from '../../src/encoding/base64.js';

// In Node the encoder delegates to Buffer; browsers and edge runtimes use the portable one, so test it directly.
describe('portable base64 encoder (the path taken outside Node)', () => {
  it('agrees with Buffer for every length 0..64 and random content', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      expect(portableBytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});
