import { type KeyObject, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcVerifier } from '../../src/auth/oidc-verifier.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let server: Server;
let issuer: string;
let jwksRequests = 0;
const now = Date.UTC(2030, 0, 1);

const jwk = (key: KeyObject, kid: string, alg: string) => ({ ...key.export({ format: 'jwk' }), kid, alg, use: 'sig' });

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      jwksRequests++;
      res.end(
        JSON.stringify({
          keys: [
            jwk(rsa.publicKey, 'rsa', 'RS256'),
            { ...jwk(rsa.publicKey, 'rsa-pss', 'PS256') },
            jwk(ec.publicKey, 'ec', 'ES256'),
            jwk(ed.publicKey, 'ed', 'EdDSA'),
          ],
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  issuer = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject | 'hmac' | 'none',
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const alg = header.alg as string;
  let signature: Buffer;
  if (key === 'none') signature = Buffer.alloc(0);
  else if (key === 'hmac') signature = createHmac('sha256', 'secret').update(input).digest();
  else if (alg === 'EdDSA') signature = sign(null, Buffer.from(input), key);
  else if (alg.startsWith('ES')) signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg.startsWith('PS')) signature = sign('sha256', Buffer.from(input), { key, padding: 6, saltLength: 32 });
  else signature = sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

const claims = (over: Record<string, unknown> = {}) => ({
  iss: issuer,
  aud: 'api://tessera',
  sub: 'user-1',
  iat: now / 1000 - 10,
  exp: now / 1000 + 600,
  roles: ['staff'],
  ...over,
});

const verifier = () =>
  createOidcVerifier({ issuers: [{ issuer, audience: ['api://tessera', 'client-1'] }], clock: () => now });

describe('app token verification (OIDC, JWKS, node:crypto)', () => {
  it.each([
    ['RS256', 'rsa', rsa.privateKey],
    ['PS256', 'rsa-pss', rsa.privateKey],
    ['ES256', 'ec', ec.privateKey],
    ['EdDSA', 'ed', ed.privateKey],
  ] as const)('accepts %s tokens signed by a key in the issuer JWKS', async (alg, kid, key) => {
    const verified = await verifier().verify(jwt({ alg, kid, typ: 'JWT' }, claims(), key));
    expect(verified).toMatchObject({ issuer, subject: 'user-1', claims: { roles: ['staff'] } });
  });

  it('accepts an ID token whose audience is the client id (aud as a list)', async () => {
    const token = jwt({ alg: 'ES256', kid: 'ec' }, claims({ aud: ['client-1', 'other'] }), ec.privateKey);
    expect((await verifier().verify(token)).subject).toBe('user-1');
  });

  it.each([
    ['alg none', () => jwt({ alg: 'none' }, claims(), 'none'), 'ERR_TOKEN_MALFORMED'],
    [
      'HS256 with a guessed secret (algorithm confusion)',
      () => jwt({ alg: 'HS256', kid: 'rsa' }, claims(), 'hmac'),
      'ERR_TOKEN_BAD_SIGNATURE',
    ],
    [
      'a key not in the JWKS',
      () => jwt({ alg: 'ES256', kid: 'ec' }, claims(), rogue.privateKey),
      'ERR_TOKEN_BAD_SIGNATURE',
    ],
    ['an unknown kid', () => jwt({ alg: 'ES256', kid: 'nope' }, claims(), ec.privateKey), 'ERR_TOKEN_UNKNOWN_KEY'],
    [
      'an RSA kid used with ES256',
      () => jwt({ alg: 'ES256', kid: 'rsa' }, claims(), ec.privateKey),
      'ERR_TOKEN_UNKNOWN_KEY',
    ],
    [
      'another issuer',
      () => jwt({ alg: 'ES256', kid: 'ec' }, claims({ iss: 'https://evil.example' }), ec.privateKey),
      'ERR_TOKEN_WRONG_ISSUER',
    ],
    [
      'another audience',
      () => jwt({ alg: 'ES256', kid: 'ec' }, claims({ aud: 'api://other' }), ec.privateKey),
      'ERR_TOKEN_WRONG_AUDIENCE',
    ],
    [
      'an expired token',
      () => jwt({ alg: 'ES256', kid: 'ec' }, claims({ exp: now / 1000 - 61 }), ec.privateKey),
      'ERR_TOKEN_EXPIRED',
    ],
    [
      'no exp (a token that never expires)',
      () => jwt({ alg: 'ES256', kid: 'ec' }, claims({ exp: undefined }), ec.privateKey),
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'nbf in the future',
      () => jwt({ alg: 'ES256', kid: 'ec' }, claims({ nbf: now / 1000 + 120 }), ec.privateKey),
      'ERR_TOKEN_NOT_YET_VALID',
    ],
    ['no sub', () => jwt({ alg: 'ES256', kid: 'ec' }, claims({ sub: '' }), ec.privateKey), 'ERR_TOKEN_MALFORMED'],
    ['garbage', () => 'a.b', 'ERR_TOKEN_MALFORMED'],
  ])('refuses %s', async (_name, make, code) => {
    await expect(verifier().verify(make())).rejects.toMatchObject({ code });
  });

  it('tolerates 60 s of clock skew with the identity provider (landscape: clock skew rejects nbf/iat)', async () => {
    const token = jwt(
      { alg: 'ES256', kid: 'ec' },
      claims({ nbf: now / 1000 + 30, iat: now / 1000 + 30 }),
      ec.privateKey,
    );
    expect((await verifier().verify(token)).subject).toBe('user-1');
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = jwt({ alg: 'RS256', kid: 'rsa' }, claims(), rsa.privateKey).split('.');
    await expect(verifier().verify(`${h}.${b64(claims({ sub: 'admin' }))}.${s}`)).rejects.toMatchObject({
      code: 'ERR_TOKEN_BAD_SIGNATURE',
    });
  });

  it('does not refetch the JWKS for every made-up kid', async () => {
    const v = verifier();
    await v.verify(jwt({ alg: 'ES256', kid: 'ec' }, claims(), ec.privateKey));
    const before = jwksRequests;
    for (let i = 0; i < 20; i++) {
      await expect(v.verify(jwt({ alg: 'ES256', kid: `made-up-${i}` }, claims(), ec.privateKey))).rejects.toMatchObject(
        {
          code: 'ERR_TOKEN_UNKNOWN_KEY',
        },
      );
    }
    expect(jwksRequests - before).toBe(0);
  });

  it('answers 503-class ERR_ISSUER_UNAVAILABLE when the identity provider cannot be reached', async () => {
    const v = createOidcVerifier({ issuers: [{ issuer: 'http://127.0.0.1:9', audience: 'x' }], clock: () => now });
    const token = jwt({ alg: 'ES256', kid: 'ec' }, { ...claims(), iss: 'http://127.0.0.1:9', aud: 'x' }, ec.privateKey);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_ISSUER_UNAVAILABLE' });
  });
});
