import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_LENGTH,
  assembleJwt,
  buildClaims,
  decodeJwt,
  encodeSigningInput,
  parseClaims,
} from '../../src/index.js';
import { catchTessera, expectNoSecret } from '../support/secrets.js';
import { tokenVectors } from '../support/vectors.js';

const vectors = tokenVectors();
const es256 = vectors.es256;

describe('decodeJwt — malformed vectors (test-vectors/tokens.json)', () => {
  it.each(vectors.decodeJwtMalformed.map((c) => [c.name, c] as const))('%s → ERR_TOKEN_MALFORMED', (_n, vector) => {
    const error = catchTessera(() => decodeJwt(vector.token));
    expect(error.code).toBe(vector.code);
  });

  it('MAX_TOKEN_LENGTH is 8192 and the boundary vectors sit on it', () => {
    expect(MAX_TOKEN_LENGTH).toBe(8192);
    const tooLong = vectors.decodeJwtMalformed.find((c) => c.name.startsWith('longer than'));
    expect(typeof tooLong?.token === 'string' && tooLong.token.length).toBe(8193);
  });

  it('never puts any part of the token in the error', () => {
    for (const vector of vectors.decodeJwtMalformed) {
      if (typeof vector.token !== 'string') continue;
      const error = catchTessera(() => decodeJwt(vector.token));
      expectNoSecret(
        error,
        vector.token.split('.').filter((part) => part.length >= 6),
      );
    }
  });
});

describe('decodeJwt — valid', () => {
  it.each(vectors.decodeJwtValid.map((c) => [c.name, c] as const))('%s', (_n, vector) => {
    const decoded = decodeJwt(vector.token);
    expect(decoded.header).toEqual(vector.expected.header);
    expect(decoded.signingInput.length).toBe(vector.expected.signingInputLength);
  });

  it('splits the stored ES256 token into header, payload, signing input and a 64-byte P1363 signature', () => {
    const decoded = decodeJwt(es256.token);
    const [h, p, s] = es256.token.split('.');
    expect(decoded.header).toEqual(es256.header);
    expect(decoded.signingInput).toBe(`${h}.${p}`);
    expect(decoded.signature.length).toBe(64);
    expect(Buffer.from(decoded.signature).toString('base64url')).toBe(s);
    expect(decoded.payload).toEqual(JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')));
  });
});

describe('the stored ES256 token and public JWK (test-vectors/tokens.json)', () => {
  const key = createPublicKey({ key: es256.publicJwk, format: 'jwk' });
  const check = (token: string) => {
    const d = decodeJwt(token);
    return verify('sha256', Buffer.from(d.signingInput), { key, dsaEncoding: 'ieee-p1363' }, d.signature);
  };

  it('verifies with node:crypto against the public JWK alone', () => {
    expect(es256.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(decodeJwt(es256.token).header.kid).toBe(es256.publicJwk.kid);
    expect(check(es256.token)).toBe(true);
  });

  it('fails to verify when one claim or one signature character changes', () => {
    const [h = '', p = '', s = ''] = es256.token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const elevated = Buffer.from(JSON.stringify({ ...payload, rev: 1 })).toString('base64url');
    expect(check(`${h}.${elevated}.${s}`)).toBe(false);
    const otherSig = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    expect(check(`${h}.${p}.${otherSig}`)).toBe(false);
  });

  it('carries contract-v1 claims that parseClaims accepts and that equal buildClaims case 0', () => {
    const source = vectors.buildClaims.find((c) => c.name === es256.buildClaimsCase);
    expect(source).toBeDefined();
    expect(parseClaims(decodeJwt(es256.token).payload)).toStrictEqual(source?.expected);
  });

  it('core reproduces its signing input byte for byte (encodeSigningInput of buildClaims case 0)', () => {
    const source = vectors.buildClaims.find((c) => c.name === es256.buildClaimsCase);
    if (source === undefined) throw new Error('vector missing');
    const claims = buildClaims({ ...source.input, scopes: [...source.input.scopes] });
    expect(encodeSigningInput(es256.header, claims)).toBe(decodeJwt(es256.token).signingInput);
  });
});

describe('encodeSigningInput + assembleJwt', () => {
  it('round-trips through decodeJwt and verifies with a fresh ES256 key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const header = { alg: 'ES256', typ: 'JWT', kid: 'k-1' };
    const payload = { sub: '8:acs:x_y', text: 'zoë 例え 🎉', n: 1 };
    const input = encodeSigningInput(header, payload);
    expect(input).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const token = assembleJwt(input, new Uint8Array(signature));
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const decoded = decodeJwt(token);
    expect(decoded.header).toEqual(header);
    expect(decoded.payload).toEqual(payload);
    expect(decoded.signingInput).toBe(input);
    expect(verify('sha256', Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, decoded.signature)).toBe(
      true,
    );
  });

  it('encodes exactly JSON.stringify of header and payload, base64url without padding', () => {
    const header = { alg: 'ES256' };
    const payload = { a: 1 };
    expect(encodeSigningInput(header, payload)).toBe(
      `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{"a":1}').toString('base64url')}`,
    );
  });
});
