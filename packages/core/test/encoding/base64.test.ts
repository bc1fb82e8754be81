import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { textToBase64Url } from '../../src/encoding/base64.js';
import { base64ToBytes, bytesToBase64, bytesToBase64Url, fromUtf8, utf8 } from '../../src/index.js';

describe('base64 encoding', () => {
  it('round-trips every length 0..64 and matches Buffer byte for byte', () => {
    for (let length = 0; length <= 64; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      const b64 = bytesToBase64(bytes);
      const b64u = bytesToBase64Url(bytes);
      expect(b64).toBe(Buffer.from(bytes).toString('base64'));
      expect(b64u).toBe(Buffer.from(bytes).toString('base64url'));
      expect(base64ToBytes(b64)).toEqual(bytes);
      expect(base64ToBytes(b64u)).toEqual(bytes);
    }
  });

  it('bytesToBase64Url encodes a view into a larger buffer as just the view (no copy is made, none is needed)', () => {
    const big = new Uint8Array(randomBytes(200));
    const view = big.subarray(37, 101);
    expect(bytesToBase64Url(view)).toBe(Buffer.from(view).toString('base64url'));
  });

  // JWS segments are encoded through one reused buffer up to 4,096 characters and with a fresh one above: each call's
  // answer must be its own, also after a longer one, and for text whose UTF-8 is up to 3 bytes per character.
  it('textToBase64Url matches Buffer for short, long, non-ASCII and alternating inputs', () => {
    const inputs = [
      '',
      'a',
      '{"iss":"x"}',
      'ドメイン 🎉 tëssera',
      'é'.repeat(4096),
      'x'.repeat(5000),
      'y',
      '€'.repeat(4097),
    ];
    for (const text of [...inputs, ...inputs.reverse()]) {
      expect(textToBase64Url(text)).toBe(Buffer.from(text, 'utf8').toString('base64url'));
    }
  });

  it('round-trips all 256 byte values, including the characters that differ between the alphabets', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(base64ToBytes(bytesToBase64(all))).toEqual(all);
    expect(base64ToBytes(bytesToBase64Url(all))).toEqual(all);
    expect(bytesToBase64(Uint8Array.of(0xfb, 0xff))).toBe('+/8=');
    expect(bytesToBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
  });

  it('decodes known RFC 4648 §10 vectors', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of cases) {
      expect(bytesToBase64(utf8(plain))).toBe(encoded);
      expect(fromUtf8(base64ToBytes(encoded) ?? new Uint8Array([0xff]))).toBe(plain);
      // padding is optional on input
      expect(base64ToBytes(encoded.replace(/=+$/, ''))).toEqual(utf8(plain));
    }
  });

  it('is strict where Buffer is lenient: characters outside the alphabets are refused, not dropped', () => {
    // Buffer turns each of these into 'foo' without an error — the pain point behind an HMAC key that is
    // silently wrong (docs/spec/wire-protocol.md §2.1: the Node SDK decodes the access key with Buffer).
    const lenient = ['Zm9v!', 'Zm 9v', 'Zm9v\n', 'Zm.9v', 'Zm9v*', 'Zm\t9v', 'Zm9vé'];
    for (const text of lenient) {
      expect(Buffer.from(text, 'base64').toString('utf8')).toBe('foo');
      expect(base64ToBytes(text), JSON.stringify(text)).toBeUndefined();
    }
    for (const text of ['Zm=9v', 'Zé9v', '😀Zm9v', '=Zm9v']) {
      expect(base64ToBytes(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('refuses impossible lengths (4n+1 characters)', () => {
    expect(base64ToBytes('A')).toBeUndefined();
    expect(base64ToBytes('Zm9vY')).toBeUndefined();
    expect(base64ToBytes('Zm9vY===')).toBeUndefined();
  });

  it('decodes the empty string to zero bytes', () => {
    expect(base64ToBytes('')).toEqual(new Uint8Array(0));
  });
});

describe('utf8', () => {
  it('round-trips non-ASCII text', () => {
    const text = 'zoë.müller@例え.jp 🎉';
    expect(Buffer.from(utf8(text)).toString('utf8')).toBe(text);
    expect(fromUtf8(utf8(text))).toBe(text);
  });

  it('returns undefined for invalid UTF-8 instead of inserting U+FFFD', () => {
    expect(fromUtf8(Uint8Array.of(0xff, 0xfe))).toBeUndefined();
    expect(fromUtf8(Uint8Array.of(0xc3))).toBeUndefined();
    expect(fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80))).toBeUndefined(); // lone surrogate
  });
});
