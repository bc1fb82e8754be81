// The bearer token verifier on its own: signature algorithms with node:crypto (RS256, PS256, ES256, ES384,
// EdDSA), refusal of `none` / HS256 algorithm confusion, issuer/audience/exp/nbf with leeway, and the key cache
// (refreshed on an unknown kid, with a cooldown; recovers when the provider comes back).
import { createPublicKey } from 'node:crypto';
import { isTesseraError, type TesseraErrorCode } from '@tessera/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createExternalTokenVerifier, type ExternalTokenVerifier } from '../../src/auth/oidc-token-verifier.js';
import { parseTrustedIssuers, type TrustedIssuerConfig } from '../../src/auth/oidc-trusted-issuers.js';
import { fixtureKey, type FixtureKey, type JwksFixture, signHs256, signJwt, startJwksFixture } from './jwks-fixture.js';

const AUD = 'https://communication.azure.com';
const fixtures: JwksFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function setup(
  keys: FixtureKey[],
  config: Partial<TrustedIssuerConfig> = {},
  options: { clock?: () => number; cooldownMs?: number } = {},
): Promise<{ fixture: JwksFixture; verifier: ExternalTokenVerifier }> {
  const fixture = await startJwksFixture(keys);
  fixtures.push(fixture);
  const verifier = createExternalTokenVerifier({
    issuers: parseTrustedIssuers([{ issuer: fixture.issuer, ...config }]),
    clock: options.clock ?? Date.now,
    refreshCooldownMs: options.cooldownMs ?? 0,
  });
  return { fixture, verifier };
}

function claims(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, aud: AUD, sub: 'svc-1', iat: now, exp: now + 600, ...extra };
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

describe('external token verifier', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const)('verifies %s signatures', async (alg) => {
    const key = fixtureKey(`k-${alg}`, alg);
    const { fixture, verifier } = await setup([key]);
    const verified = await verifier.verify(signJwt(key, claims(fixture.issuer)));
    expect(verified.claims.sub).toBe('svc-1');
    const [h, p, s = ''] = signJwt(key, claims(fixture.issuer)).split('.');
    const flipped = `${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await codeOf(verifier.verify(`${h}.${p}.${flipped}`))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });

  it('refuses alg "none" and HS256 keyed with the public key (algorithm confusion)', async () => {
    const key = fixtureKey('rsa', 'RS256');
    const { fixture, verifier } = await setup([key]);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'rsa' })).toString('base64url')}.${Buffer.from(
      JSON.stringify(claims(fixture.issuer)),
    ).toString('base64url')}.AA`;
    expect(await codeOf(verifier.verify(none))).toBe('ERR_TOKEN_BAD_SIGNATURE');
    const publicPem = Buffer.from(String(createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' })));
    expect(await codeOf(verifier.verify(signHs256(publicPem, claims(fixture.issuer), 'rsa')))).toBe(
      'ERR_TOKEN_BAD_SIGNATURE',
    );
  });

  it('a key only verifies its own algorithm family (an RSA kid under an ES256 header finds no key)', async () => {
    const rsa = fixtureKey('shared-kid', 'RS256');
    const ec = fixtureKey('shared-kid', 'ES256');
    const { fixture, verifier } = await setup([rsa]);
    expect(await codeOf(verifier.verify(signJwt(ec, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
  });

  it('honours the issuer’s algorithm allow-list', async () => {
    const key = fixtureKey('rsa', 'RS256');
    const { fixture, verifier } = await setup([key], { algorithms: ['ES256'] });
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });

  it('checks issuer, audience (string or array, defaults plus configured), exp and nbf with leeway', async () => {
    const key = fixtureKey('ec', 'ES256');
    let now = Date.now();
    const { fixture, verifier } = await setup(
      [key],
      { audiences: ['api://tessera'], clockToleranceSeconds: 30 },
      {
        clock: () => now,
      },
    );
    const sec = Math.floor(now / 1000);
    const ok = (extra: Record<string, unknown>) => verifier.verify(signJwt(key, claims(fixture.issuer, extra)));
    expect(await codeOf(ok({ aud: 'https://communication.azure.com/' }))).toBe('ok');
    expect(await codeOf(ok({ aud: ['x', 'api://tessera'] }))).toBe('ok');
    expect(await codeOf(ok({ aud: 'api://other' }))).toBe('ERR_TOKEN_WRONG_AUDIENCE');
    expect(await codeOf(ok({ aud: undefined }))).toBe('ERR_TOKEN_WRONG_AUDIENCE');
    expect(await codeOf(ok({ iss: 'https://elsewhere.example' }))).toBe('ERR_TOKEN_WRONG_ISSUER');
    expect(await codeOf(ok({ exp: undefined }))).toBe('ERR_TOKEN_MALFORMED');
    // exp 20 s ago is inside the 30 s leeway; 40 s ago is not.
    expect(await codeOf(ok({ exp: sec - 20 }))).toBe('ok');
    expect(await codeOf(ok({ exp: sec - 40 }))).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeOf(ok({ nbf: sec + 20 }))).toBe('ok');
    expect(await codeOf(ok({ nbf: sec + 40 }))).toBe('ERR_TOKEN_NOT_YET_VALID');
    now += 3_600_000;
    expect(await codeOf(ok({}))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('refuses malformed input and unsupported crit headers without echoing the token', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    for (const token of ['', 'a.b', 'a.b.c', 'x'.repeat(20_000)]) {
      expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_MALFORMED');
    }
    const crit = signJwt(key, claims(fixture.issuer), { crit: ['exp'] });
    const error = await verifier.verify(crit).catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_TOKEN_MALFORMED')).toBe(true);
    expect(String((error as Error).message)).not.toContain(crit.split('.')[2]);
  });

  it('fetches keys once, refreshes on an unknown kid (rotation), and rate-limits refreshes for bogus kids', async () => {
    const old = fixtureKey('old', 'RS256');
    const next = fixtureKey('next', 'RS256');
    let now = Date.now();
    const { fixture, verifier } = await setup([old], {}, { clock: () => now, cooldownMs: 10_000 });
    const issue = (key: FixtureKey) => signJwt(key, claims(fixture.issuer));
    await verifier.verify(issue(old));
    await verifier.verify(issue(old));
    expect(fixture.jwksFetches).toBe(1);

    fixture.published = [old, next];
    // Within the cooldown an unknown kid does not refetch…
    expect(await codeOf(verifier.verify(issue(next)))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(fixture.jwksFetches).toBe(1);
    // …after it, the first unknown kid refetches once and the rotated key verifies.
    now += 10_001;
    await verifier.verify(issue(next));
    expect(fixture.jwksFetches).toBe(2);
    const bogus = { ...next, kid: 'bogus' };
    expect(await codeOf(verifier.verify(issue(bogus)))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(await codeOf(verifier.verify(issue(bogus)))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(fixture.jwksFetches).toBe(2);
  });

  it('a provider that is down answers 401 naming the issuer, and works again once it is back', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    fixture.down = true;
    const error = await verifier.verify(signJwt(key, claims(fixture.issuer))).catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_TOKEN_UNKNOWN_KEY')).toBe(true);
    expect((error as Error).message).toContain(fixture.issuer);
    fixture.down = false;
    expect((await verifier.verify(signJwt(key, claims(fixture.issuer)))).claims.sub).toBe('svc-1');
  });

  it('a discovery document naming another issuer is not trusted (OIDC Discovery §4.3)', async () => {
    const key = fixtureKey('ec', 'ES256');
    const { fixture, verifier } = await setup([key]);
    fixture.discoveryIssuer = 'https://impostor.example';
    expect(await codeOf(verifier.verify(signJwt(key, claims(fixture.issuer))))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(fixture.jwksFetches).toBe(0);
  });
});
