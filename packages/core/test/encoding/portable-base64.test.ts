import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base64UrlToBytesStrict,
  portableBase64UrlToBytesStrict,
  portableBytesToBase64,
} from '../../src/encoding/base64.js';

// In Node the encoder delegates to Buffer; browsers and edge runtimes use the portable one, so test it directly.
describe('portable base64 encoder (the path taken outside Node)', () => {
  it('agrees with Buffer for every length 0..64 and random content', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      expect(portableBytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});

// decodeJwt's strict base64url decoder has a Buffer path (Node) and an atob path (elsewhere). Both sit on forgiving
// decoders, so the strictness is ours: hold both to a regex-and-Buffer reference on valid and hostile inputs.
describe('strict base64url decoder: Buffer path and portable atob path agree with a strict reference', () => {
  const reference = (part: string): number[] | undefined =>
    /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1 ? [...Buffer.from(part, 'base64url')] : undefined;
  const valid = Array.from({ length: 65 }, (_, n) => Buffer.from(randomBytes(n)).toString('base64url'));
  const hostile = [
    'QUJD=',
    'QUJD==',
    'QU JD',
    'QUJ\n',
    'QU+D',
    'QU/D',
    'QUJ\u0144', // 'Ń': Buffer would read its low byte as 'D'
    'QUJ\u00c4', // a Latin-1 letter
    'QUJ\u{1F389}',
    'Q',
    'QUJDR',
    'QUJD\u0000',
    'QUJD.',
    '====',
    `${'A'.repeat(42)}\u0141${'A'.repeat(43)}`,
  ];
  const decoders = [
    ['Buffer path (Node)', base64UrlToBytesStrict],
    ['portable atob path', portableBase64UrlToBytesStrict],
  ] as const;
  for (const [name, decode] of decoders) {
    it(`${name}: decodes every valid length 0..64 like Buffer`, () => {
      for (const part of valid) expect([...(decode(part) ?? [])]).toEqual(reference(part));
    });
    it(`${name}: refuses what a strict decoder refuses`, () => {
      for (const part of hostile) expect(decode(part), JSON.stringify(part)).toBe(reference(part));
    });
  }
});

// Issue #16: one byte string, one spelling. Both decoders ignore a segment's unused trailing bits, so before the fix
// a 64-byte ES256 signature had 16 spellings (86 characters carry 4 spare bits), each a valid twin of the token.
describe('strict base64url refuses non-canonical trailing bits (Node and portable decoders)', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  it.each([1, 2, 31, 32, 64])(
    '%i bytes: the canonical form decodes, every other spelling of the tail is refused',
    (n) => {
      const bytes = new Uint8Array(randomBytes(n));
      const canonical = Buffer.from(bytes).toString('base64url');
      expect(base64UrlToBytesStrict(canonical)).toEqual(bytes);
      expect(portableBase64UrlToBytesStrict(canonical)).toEqual(bytes);
      const spare = canonical.length % 4 === 2 ? 4 : canonical.length % 4 === 3 ? 2 : 0;
      const last = ALPHABET.indexOf(canonical.charAt(canonical.length - 1));
      let refused = 0;
      for (let low = 1; low < 2 ** spare; low++) {
        const respelled = `${canonical.slice(0, -1)}${ALPHABET.charAt(last | low)}`;
        expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(bytes)); // what a forgiving decoder reads
        expect(base64UrlToBytesStrict(respelled)).toBeUndefined();
        expect(portableBase64UrlToBytesStrict(respelled)).toBeUndefined();
        refused++;
      }
      expect(refused).toBe(2 ** spare - 1);
    },
  );
});
