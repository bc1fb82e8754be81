// Issue #16: tokens have one valid form. ECDSA is malleable ((r, s) and (r, n − s) both verify), so the signer emits
// low-S signatures only and verifiers refuse high-S ones from contract version 2 on. Held here to BigInt arithmetic and
// to node:crypto's verify.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOW_S_TOKEN_CONTRACT_VERSION, checkSignatureForm, isHighS, toLowS } from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF = N / 2n;

function withS(s: bigint, r = 1n): Uint8Array {
  const hex = r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
const sOf = (signature: Uint8Array) => BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);

describe('isHighS / toLowS on P-256 signatures', () => {
  it.each([
    ['0', 0n, false],
    ['1', 1n, false],
    ['⌊n/2⌋', HALF, false],
    ['⌊n/2⌋ + 1', HALF + 1n, true],
    ['n − 1', N - 1n, true],
    ['2^255 (first byte 0x80)', 2n ** 255n, true],
    ['⌊n/2⌋ with its last byte lower', HALF - 0xa8n, false],
  ])('s = %s → high: %s', (_n, s, high) => {
    expect(isHighS(withS(s))).toBe(high);
  });

  it('anything but 64 bytes is not judged (it fails verification on its own)', () => {
    expect(isHighS(new Uint8Array(63).fill(0xff))).toBe(false);
    expect(isHighS(new Uint8Array(65).fill(0xff))).toBe(false);
    expect(isHighS(new Uint8Array(0))).toBe(false);
  });

  it('toLowS computes n − s exactly (BigInt reference), in place, leaving r alone', () => {
    for (const s of [HALF + 1n, N - 1n, 2n ** 255n, N - 2n ** 64n, HALF + 2n ** 200n + 12345n]) {
      const signature = withS(s, 0xabcdefn);
      const r = Buffer.from(signature.subarray(0, 32)).toString('hex');
      expect(toLowS(signature)).toBe(signature);
      expect(sOf(signature)).toBe(N - s);
      expect(Buffer.from(signature.subarray(0, 32)).toString('hex')).toBe(r);
      expect(isHighS(signature)).toBe(false);
    }
  });

  it('a low-S signature is returned unchanged', () => {
    const signature = withS(HALF, 7n);
    const before = Buffer.from(signature).toString('hex');
    toLowS(signature);
    expect(Buffer.from(signature).toString('hex')).toBe(before);
  });

  it('node:crypto signs high-S about half the time; the low twin of each still verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let high = 0;
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`input ${i}`);
      const signature = new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      const s = sOf(signature);
      if (isHighS(signature)) high++;
      expect(isHighS(signature)).toBe(s > HALF);
      const low = toLowS(new Uint8Array(signature));
      expect(sOf(low)).toBe(s > HALF ? N - s : s);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, low)).toBe(true);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    }
    // Both forms occur (so the normalisation is needed), 200 draws of a fair coin: far from 0 and 200.
    expect(high).toBeGreaterThan(40);
    expect(high).toBeLessThan(160);
  });
});

describe('checkSignatureForm', () => {
  const high = withS(N - 1n);
  const low = withS(1n);
  it('version 2 refuses a high-S signature with ERR_TOKEN_BAD_SIGNATURE', () => {
    expect(LOW_S_TOKEN_CONTRACT_VERSION).toBe(2);
    const error = catchTessera(() => checkSignatureForm(2, high));
    expect(error.code).toBe('ERR_TOKEN_BAD_SIGNATURE');
    expect(error.message).toMatch(/low-S/);
  });
  it('version 2 accepts a low-S signature; version 1 (minted before the upgrade) accepts either', () => {
    expect(() => checkSignatureForm(2, low)).not.toThrow();
    expect(() => checkSignatureForm(1, low)).not.toThrow();
    expect(() => checkSignatureForm(1, high)).not.toThrow();
  });
});
