// The one OIDC token verifier of Tessera (the identity server's bearer auth and token exchange, the token service's
// app logins) against a real issuer on loopback: signature algorithms with node:crypto, refusal of `none` / HS256
// algorithm confusion, a key only for its own family, issuer / audience / exp / nbf / iat with leeway, `sub`, and
// the key cache (refresh on an unknown kid with a cooldown, background refresh, discovery checks, a provider that is
// down, stalls or answers too much, https-only key URLs).
import { createPublicKey } from 'node:crypto';
import { isTesseraError, type TesseraErrorCode } from '@tessera/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOidcVerifier, type OidcIssuer, type OidcVerifier, type OidcVerifierOptions } from '../src/index.js';
import { type FixtureKey, fixtureKey, type JwksFixture, signHs256, signJwt, startJwksFixture } from './jwks-fixture.js';

const AUD = 'api://tessera';
const NOW = Date.UTC(2030, 0, 1);
const fixtures: JwksFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

interface Setup {
  readonly fixture: JwksFixture;
  readonly verifier: OidcVerifier;
  /** The frozen clock; move it with `clock.now += ms`. */
  readonly clock: { now: number };
}

async function setup(
  keys: FixtureKey[],
  issuer: Partial<OidcIssuer> = {},
  options: Partial<OidcVerifierOptions> = {},
): Promise<Setup> {
  const fixture = await startJwksFixture(keys);
  fixtures.push(fixture);
  const clock = { now: NOW };
  const verifier = createOidcVerifier({
    issuers: [{ issuer: fixture.issuer, audiences: [AUD, 'client-1'], ...issuer }],
    clock: () => clock.now,
    refreshCooldownMs: 0,
    ...options,
  });
  return { fixture, verifier, clock };
}

function claims(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const sec = Math.floor(NOW / 1000);
  return { iss: issuer, aud: AUD, sub: 'user-1', iat: sec - 10, exp: sec + 600, roles: ['staff'], ...extra };
}

async function codeOf(promise: Promise<unknown>): Promise<TesseraErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (isTesseraError(error)) return error.code;
    throw error;
  }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The `ERR_CONFIG_INVALID` target `create` throws with, or 'no error'. */
function configErrorTarget(create: () => unknown): string | undefined {
  try {
    create();
  } catch (error) {
    if (isTesseraError(error, 'ERR_CONFIG_INVALID')) return error.target;
    throw error;
  }
  return 'no error';
}

describe('OIDC token verifier: signatures', () => {
  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const)(
    'verifies %s and refuses it with a flipped signature',
    async (alg) => {
      const key = fixtureKey(`k-${alg}`, alg);
      const { fixture, verifier } = await setup([key]);
      const token = signJwt(key, claims(fixture.issuer));
      expect(await verifier.verify(token)).toMatchObject({
        issuer: fixture.issuer,
        subject: 'user-1',
        claims: { roles: ['staff'] },
        expiresAt: Math.floor(NOW / 1000) + 600,
      });
      const [h, p, s = ''] = token.split('.');
      // Change the first character: all six of its bits are signature bits, so the result is still canonical
      // base64url (changing the last one could set spare bits, which is ERR_TOKEN_MALFORMED, 1 run in 256).
      const flipped = `${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
      expect(await codeOf(verifier.verify(`${h}.${p}.${flipped}`))).toBe('ERR_TOKEN_BAD_SIGNATURE');
    },
  );

  it('returns the configured issuer it matched, with whatever the caller attached to it', async () => {
    const key = fixtureKey('ec', 'ES256');
    const fixture = await startJwksFixture([key]);
    fixtures.push(fixture);
    const trusted = { issuer: fixture.issuer, audiences: new Set([AUD]), exchange: { scopes: ['chat'] } };
    const verifier = createOidcVerifier({ issuers: [trusted], clock: () => NOW });
    const verified = await verifier.verify(signJwt(key, claims(fixture.issuer)));
    expect(verified.trustedIssuer).toBe(trusted);
    expect(verified.trustedIssuer.exchange.scopes).toEqual(['chat']);
  });

  it('refuses alg "none" (with or without a signature) and HS256 keyed with the public key (algorithm confusion)', async () => {
    const key = fixtureKey('rsa', 'RS256');
    const { fixture, verifier } = await setup([key]);
    const unsigned = `${b64({ alg: 'none', kid: 'rsa' })}.${b64(claims(fixture.issuer))}`;
    expect(await codeOf(verifier.verify(`${unsigned}.`))).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeOf(verifier.verify(`${unsigned}.AA`))).toBe('ERR_TOKEN_BAD_SIGNATURE');
    const publicPem = Buffer.from(String(createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' })));
    expect(await codeOf(verifier.verify(signHs256(publicPem, claims(fixture.issuer), 'rsa')))).toBe(
      'ERR_TOKEN_BAD_SIGNATURE',
    );
    expect(await codeOf(verifier.verify(signHs256('secret', claims(fixture.issuer), 'rsa')))).toBe(
      'ERR_TOKEN_BAD_SIGNATURE',
    );
  });

  it('a key only verifies its own family: an RSA kid under ES256, a P-256 kid under ES384, a pinned alg', async () => {
    const rsa = fixtureKey('shared-kid', 'RS256');
    const p256 = fixtureKey('p256', 'ES256');
    const pinned = fixtureKey('pinned', 'PS256');
    const pinnedPublished = { ...pinned, publicJwk: { ...pinned.publicJwk, alg: 'RS256' } };
    const { fixture, verifier } = await setup([rsa, p256, pinnedPublished]);
    const ec = fixtureKey('shared-kid', 'ES256');
    expect(await codeOf(verifier.verify(signJwt(ec, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    const p384 = fixtureKey('p256', 'ES384');
    expect(await codeOf(verifier.verify(signJwt(p384, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    // The JWK pins RS256, so the same RSA key does not verify PS256 tokens.
    expect(await codeOf(verifier.verify(signJwt(pinned, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
  });

  it('refuses a key that is not in the JWKS under a published kid, and a tampered payload', async () => {
    const key = fixtureKey('ec', 'ES256');
    const rogue = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    expect(await codeOf(verifier.verify(signJwt(rogue, claims(fixture.issuer))))).toBe('ERR_TOKEN_BAD_SIGNATURE');
    const [h, , s] = signJwt(key, claims(fixture.issuer)).split('.');
    expect(await codeOf(verifier.verify(`${h}.${b64(claims(fixture.issuer, { sub: 'admin' }))}.${s}`))).toBe(
      'ERR_TOKEN_BAD_SIGNATURE',
    );
  });

  it('never uses a JWKS key that carries a private member, or an RSA key shorter than 2048 bits', async () => {
    const leaked = fixtureKey('leaked', 'ES256');
    const leakedPublished = {
      ...leaked,
      publicJwk: { ...leaked.privateKey.export({ format: 'jwk' }), kid: 'leaked', use: 'sig' },
    };
    const { fixture, verifier } = await setup([leakedPublished]);
    expect(await codeOf(verifier.verify(signJwt(leaked, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    const { generateKeyPairSync } = await import('node:crypto');
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak: FixtureKey = {
      kid: 'weak',
      alg: 'RS256',
      privateKey: short.privateKey,
      publicJwk: { ...short.publicKey.export({ format: 'jwk' }), kid: 'weak', use: 'sig' },
    };
    fixture.published = [weak];
    expect(await codeOf(verifier.verify(signJwt(weak, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
  });

  it('honours the issuer’s algorithm allow-list', async () => {
    const key = fixtureKey('rsa', 'RS256');
    const { fixture, verifier } = await setup([key], { algorithms: ['ES256'] });
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_TOKEN_BAD_SIGNATURE');
    expect(fixture.requests).toBe(0);
  });
});

describe('OIDC token verifier: claims', () => {
  it('checks issuer (before any fetch), audience (string or list), exp, nbf and iat with the issuer’s leeway', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier, clock } = await setup([key], { clockToleranceSeconds: 30 });
    const sec = Math.floor(NOW / 1000);
    const check = (extra: Record<string, unknown>) =>
      codeOf(verifier.verify(signJwt(key, claims(fixture.issuer, extra))));
    expect(await check({ iss: 'https://elsewhere.example' })).toBe('ERR_TOKEN_WRONG_ISSUER');
    expect(fixture.requests).toBe(0);
    expect(await check({ aud: 'client-1' })).toBe('ok');
    expect(await check({ aud: ['other', 'client-1'] })).toBe('ok');
    expect(await check({ aud: 'api://other' })).toBe('ERR_TOKEN_WRONG_AUDIENCE');
    expect(await check({ aud: undefined })).toBe('ERR_TOKEN_WRONG_AUDIENCE');
    expect(await check({ exp: undefined })).toBe('ERR_TOKEN_MALFORMED');
    expect(await check({ exp: '9999999999' })).toBe('ERR_TOKEN_MALFORMED');
    // exp 20 s ago is inside the 30 s leeway; 40 s ago is not.
    expect(await check({ exp: sec - 20 })).toBe('ok');
    expect(await check({ exp: sec - 40 })).toBe('ERR_TOKEN_EXPIRED');
    expect(await check({ nbf: sec + 20 })).toBe('ok');
    expect(await check({ nbf: sec + 40 })).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(await check({ nbf: 'soon' })).toBe('ERR_TOKEN_MALFORMED');
    expect(await check({ iat: sec + 40 })).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(await check({ sub: '' })).toBe('ERR_TOKEN_MALFORMED');
    expect(await check({ sub: undefined })).toBe('ERR_TOKEN_MALFORMED');
    clock.now += 3_600_000;
    expect(await check({})).toBe('ERR_TOKEN_EXPIRED');
  });

  it('tolerates 60 s of clock skew by default (landscape: clock skew with the IdP rejects nbf/iat)', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    const sec = Math.floor(NOW / 1000);
    const skewed = signJwt(key, claims(fixture.issuer, { nbf: sec + 30, iat: sec + 30 }));
    expect((await verifier.verify(skewed)).subject).toBe('user-1');
    const tooFar = signJwt(key, claims(fixture.issuer, { exp: sec - 61 }));
    expect(await codeOf(verifier.verify(tooFar))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('refuses malformed input and unsupported crit headers without echoing the token', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    for (const token of ['', 'a.b', 'a.b.c', 'not-a-jwt', 'x'.repeat(20_000)]) {
      expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_MALFORMED');
    }
    // RFC 7515 §4.1.11 (issue #16): any crit is refused, whatever it names; each token here is correctly signed.
    for (const header of [
      { crit: ['exp'] },
      { crit: ['exp'], exp: 1 },
      { crit: [] },
      { crit: ['b64'], b64: true },
      { crit: ['kid'] },
      { crit: 'exp' },
    ]) {
      const crit = signJwt(key, claims(fixture.issuer), header);
      const error = await verifier.verify(crit).catch((e: unknown) => e);
      expect(isTesseraError(error, 'ERR_TOKEN_MALFORMED'), JSON.stringify(header)).toBe(true);
      expect(String((error as Error).message)).toMatch(/crit/);
      expect(String((error as Error).message)).not.toContain(crit.split('.')[2]);
    }
    expect(fixture.jwksFetches).toBe(0); // refused before any key is fetched
  });

  it('accepts tokens up to maxTokenLength (Entra tokens with many groups are long)', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    const groups = Array.from({ length: 200 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const token = signJwt(key, claims(fixture.issuer, { groups }));
    expect(token.length).toBeGreaterThan(8192);
    expect((await verifier.verify(token)).claims.groups).toHaveLength(200);
  });
});

describe('OIDC token verifier: keys', () => {
  it('fetches keys once, refreshes on an unknown kid (rotation), and rate-limits refreshes for made-up kids', async () => {
    const old = fixtureKey('old', 'RS256');
    const next = fixtureKey('next', 'RS256');
    const { fixture, verifier, clock } = await setup([old], {}, { refreshCooldownMs: 10_000 });
    const issue = (key: FixtureKey) => signJwt(key, claims(fixture.issuer));
    await verifier.verify(issue(old));
    await verifier.verify(issue(old));
    expect(fixture.jwksFetches).toBe(1);

    fixture.published = [old, next];
    // Within the cooldown an unknown kid does not refetch…
    expect(await codeOf(verifier.verify(issue(next)))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(fixture.jwksFetches).toBe(1);
    // …after it, the first unknown kid refetches once and the rotated key verifies.
    clock.now += 10_001;
    await verifier.verify(issue(next));
    expect(fixture.jwksFetches).toBe(2);
    for (let i = 0; i < 20; i++) {
      expect(await codeOf(verifier.verify(issue({ ...next, kid: `made-up-${i}` })))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    }
    expect(fixture.jwksFetches).toBe(2);
  });

  it('answers with cached keys once they are old and re-reads them in the background', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier, clock } = await setup([key], {}, { maxAgeMs: 60_000 });
    await verifier.verify(signJwt(key, claims(fixture.issuer)));
    clock.now += 61_000;
    fixture.published = [];
    // The stale key still verifies this one token; the background read then drops it.
    expect((await verifier.verify(signJwt(key, claims(fixture.issuer)))).subject).toBe('user-1');
    await vi.waitFor(() => expect(fixture.jwksFetches).toBe(2));
    await vi.waitFor(async () =>
      expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY'),
    );
  });

  it('a provider that is down answers 503-class ERR_ISSUER_UNAVAILABLE naming the issuer, without calling out again within the cooldown, and recovers', async () => {
    const key = fixtureKey('ec', 'ES256');
    const errors: unknown[] = [];
    const { fixture, verifier, clock } = await setup(
      [key],
      {},
      { refreshCooldownMs: 10_000, onError: (e) => errors.push(e) },
    );
    fixture.down = true;
    const token = signJwt(key, claims(fixture.issuer));
    const error = await verifier.verify(token).catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain(fixture.issuer);
    expect((error as Error).message).not.toContain(token.split('.')[2]);
    expect(error).toMatchObject({ details: { retryAfterSeconds: 10 } });
    expect(errors).toHaveLength(1);
    const requests = fixture.requests;
    expect(await codeOf(verifier.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(fixture.requests).toBe(requests);

    fixture.down = false;
    clock.now += 10_000;
    expect((await verifier.verify(token)).subject).toBe('user-1');
  });

  it('an unreachable provider (connection refused) answers ERR_ISSUER_UNAVAILABLE', async () => {
    const issuer = 'http://127.0.0.1:9';
    const verifier = createOidcVerifier({ issuers: [{ issuer, audiences: ['x'] }], clock: () => NOW });
    const key = fixtureKey('ec', 'ES256');
    expect(await codeOf(verifier.verify(signJwt(key, { ...claims(issuer), aud: 'x' })))).toBe('ERR_ISSUER_UNAVAILABLE');
  });

  it('a provider that never answers times out into ERR_ISSUER_UNAVAILABLE', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key], {}, { timeoutMs: 200 });
    fixture.stall = true;
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_ISSUER_UNAVAILABLE');
  });

  it('refuses a JWKS document larger than maxDocumentBytes', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key], {}, { maxDocumentBytes: 64 * 1024 });
    fixture.jwksPadding = 100 * 1024;
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_ISSUER_UNAVAILABLE');
    fixture.jwksPadding = 0;
    expect((await verifier.verify(signJwt(key, claims(fixture.issuer)))).subject).toBe('user-1');
  });

  it('a discovery document naming another issuer is not trusted (OIDC Discovery §4.3)', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    fixture.discoveryIssuer = 'https://impostor.example';
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(fixture.jwksFetches).toBe(0);
  });

  it('never fetches keys over plain http from anywhere but loopback', async () => {
    const key = fixtureKey('ec', 'ES256');
    const calls: string[] = [];
    const recording: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    const { fixture, verifier } = await setup([key], {}, { fetch: recording });
    fixture.discoveryJwksUri = 'http://keys.example.com/jwks';
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(calls).toEqual([`${fixture.issuer}/.well-known/openid-configuration`]);
    expect(
      configErrorTarget(() =>
        createOidcVerifier({ issuers: [{ issuer: 'http://idp.example.com', audiences: [AUD] }] }),
      ),
    ).toBe('discoveryUrl');
    expect(
      configErrorTarget(() =>
        createOidcVerifier({
          issuers: [{ issuer: 'https://idp.example.com', audiences: [AUD], jwksUri: 'http://idp.example.com/keys' }],
        }),
      ),
    ).toBe('jwksUri');
  });

  it('reads keys from a fixed jwksUri without discovery (Kubernetes service-account issuers)', async () => {
    const key = fixtureKey('sa', 'RS256');
    const fixture = await startJwksFixture([key]);
    fixtures.push(fixture);
    const verifier = createOidcVerifier({
      issuers: [{ issuer: 'https://kubernetes.default.svc.cluster.local', audiences: [AUD], jwksUri: fixture.jwksUri }],
      clock: () => NOW,
    });
    const token = signJwt(key, claims('https://kubernetes.default.svc.cluster.local'));
    expect((await verifier.verify(token)).subject).toBe('user-1');
    expect(fixture.requests).toBe(1);
  });

  it('refuses unusable issuer settings when created', () => {
    const make =
      (...issuers: OidcIssuer[]) =>
      () =>
        createOidcVerifier({ issuers });
    expect(configErrorTarget(make({ issuer: 'https://a.example', audiences: [] }))).toBe('audiences');
    expect(configErrorTarget(make({ issuer: 'https://a.example', audiences: [AUD], algorithms: [] }))).toBe(
      'algorithms',
    );
    const a = { issuer: 'https://a.example', audiences: [AUD] };
    expect(configErrorTarget(make(a, a))).toBe('issuers');
    expect(configErrorTarget(make(a))).toBe('no error');
  });
});
