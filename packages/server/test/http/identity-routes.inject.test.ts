// The identity server's HTTP behaviour through buildApp(...).inject() on the memory store: no socket, no process
// (docs/development.md "Test layers"). The e2e suites (test/e2e/) cover the same surface over a real socket and
// the official SDK; these pin the behaviour down in milliseconds.
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { decodeJwt } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_API_VERSIONS, ALL_SCOPES, hasStackTrace, PREVIEW } from '../e2e/helpers.js';
import { INJECT_ENDPOINT, type InjectedApp, type InjectedResponse, injectApp } from './inject-app.js';

let t: InjectedApp;
beforeAll(async () => {
  t = await injectApp();
});
afterAll(async () => {
  await t.close();
  expect(t.errors).toStrictEqual([]);
});

const SUPPORTED = ALL_API_VERSIONS.join(', ');
const V = '2023-10-01';
const HAS_EXPIRY = new Set(['2022-10-01', '2023-08-01', '2023-10-01', PREVIEW, '2025-06-30']);
const HAS_JOIN_SCOPES = new Set(['2023-10-01', PREVIEW, '2025-06-30']);
const HAS_REPEATABILITY = new Set(['2023-08-01', '2023-10-01', PREVIEW, '2025-06-30']);

interface WireError {
  code: string;
  message: string;
  target?: string;
  innererror?: { code: string };
}

function errorOf(res: InjectedResponse): WireError {
  const body = res.json as { error?: WireError } | undefined;
  if (body?.error === undefined) throw new Error(`expected an ACS error body, got ${res.status} ${res.text}`);
  return body.error;
}

/** What every error answer is: JSON, no stack, the versions header, the given status and codes. */
function expectError(res: InjectedResponse, status: number, code: string, inner?: string): WireError {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['api-supported-versions']).toBe(SUPPORTED);
  expect(hasStackTrace(res.text)).toBe(false);
  const error = errorOf(res);
  expect(error.code).toBe(code);
  if (inner !== undefined) expect(error.innererror?.code).toBe(inner);
  return error;
}

const idPath = (id: string, suffix = '', version = V) =>
  `/identities/${encodeURIComponent(id)}${suffix}?api-version=${version}`;

async function create(body?: unknown, version = V): Promise<{ identity: { id: string; customId?: string } }> {
  const res = await t.acs('POST', `/identities?api-version=${version}`, { json: body });
  expect(res.status, res.text).toBe(201);
  return res.json as { identity: { id: string; customId?: string } };
}

async function issue(id: string, scopes: readonly string[] = ['chat'], version = V): Promise<string> {
  const res = await t.acs('POST', idPath(id, '/:issueAccessToken', version), { json: { scopes } });
  expect(res.status, res.text).toBe(200);
  return (res.json as { token: string }).token;
}

function lifetimeSeconds(token: string): number {
  const { payload } = decodeJwt(token);
  return Number(payload.exp) - Number(payload.iat);
}

describe('identities: create, get, issue, revoke, delete', () => {
  it('create → 201 with an 8:acs id of this resource; with scopes it carries a token', async () => {
    const plain = await create();
    expect(plain.identity.id).toMatch(new RegExp(`^8:acs:${t.resourceId}_[0-9a-f-]{36}$`));
    const res = await t.acs('POST', `/identities?api-version=${V}`, { json: { createTokenWithScopes: ['voip'] } });
    expect(res.status).toBe(201);
    const body = res.json as { identity: { id: string }; accessToken: { token: string; expiresOn: string } };
    expect(decodeJwt(body.accessToken.token).payload.acsScope).toBe('voip');
  });

  it('get (preview) → 200 with the identity; unknown → 404 IdentityNotFound; deleted → 404 IdentityDeleted', async () => {
    const { identity } = await create({ customId: 'get-me' }, PREVIEW);
    const got = await t.acs('GET', idPath(identity.id, '', PREVIEW));
    expect(got.status, got.text).toBe(200);
    expect(got.json).toMatchObject({ id: identity.id, customId: 'get-me' });
    const unknown = `8:acs:${t.resourceId}_00000000-0000-4000-8000-000000000000`;
    expectError(await t.acs('GET', idPath(unknown, '', PREVIEW)), 404, 'IdentityNotFound');
    expect((await t.acs('DELETE', idPath(identity.id))).status).toBe(204);
    expectError(await t.acs('GET', idPath(identity.id, '', PREVIEW)), 404, 'IdentityDeleted');
  });

  it('issue → 200 token of the asked scopes; issue after delete → 404 IdentityDeleted', async () => {
    const { identity } = await create();
    const token = await issue(identity.id, ['chat', 'voip']);
    expect(decodeJwt(token).payload.acsScope).toBe('chat,voip');
    expect((await t.acs('DELETE', idPath(identity.id))).status).toBe(204);
    expectError(await t.acs('DELETE', idPath(identity.id)), 404, 'IdentityDeleted');
    expectError(
      await t.acs('POST', idPath(identity.id, '/:issueAccessToken'), { json: { scopes: ['chat'] } }),
      404,
      'IdentityDeleted',
    );
  });

  it('another resource’s identity → 401 IdentityNotOwned; a malformed id → 4xx, never 500', async () => {
    const foreign = '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000';
    expectError(
      await t.acs('POST', idPath(foreign, '/:issueAccessToken'), { json: { scopes: ['chat'] } }),
      401,
      'IdentityNotOwned',
    );
    const res = await t.acs('POST', idPath('not-an-id', '/:issueAccessToken'), { json: { scopes: ['chat'] } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('revoke → 204, and tokens issued before it introspect as inactive; new ones are active', async () => {
    const { identity } = await create();
    const before = await issue(identity.id);
    const active = await t.acs('POST', '/tokens/:introspect', { json: { token: before } });
    expect(active.status).toBe(200);
    expect(active.json).toMatchObject({ active: true, sub: identity.id, scope: 'chat' });
    expect((await t.acs('POST', idPath(identity.id, '/:revokeAccessTokens'))).status).toBe(204);
    const revoked = await t.acs('POST', '/tokens/:introspect', { json: { token: before } });
    expect(revoked.json).toMatchObject({ active: false });
    const after = await issue(identity.id);
    expect((await t.acs('POST', '/tokens/:introspect', { json: { token: after } })).json).toMatchObject({
      active: true,
    });
  });

  it('introspection: the verifier key may introspect but never mint; garbage tokens are inactive', async () => {
    const { identity } = await create();
    const token = await issue(identity.id);
    const verifier = t.key('verifier');
    const seen = await t.acs('POST', '/tokens/:introspect', { json: { token }, accessKey: verifier });
    expect(seen.json).toMatchObject({ active: true, sub: identity.id });
    const minted = await t.acs('POST', idPath(identity.id, '/:issueAccessToken'), {
      json: { scopes: ['chat'] },
      accessKey: verifier,
    });
    expect(minted.status).toBe(403);
    const garbage = await t.acs('POST', '/tokens/:introspect', { json: { token: 'a.b.c' } });
    expect(garbage.status).toBe(200);
    expect(garbage.json).toMatchObject({ active: false });
  });
});

describe.each(ALL_API_VERSIONS)('api-version %s', (version) => {
  it(HAS_EXPIRY.has(version) ? 'expiresInMinutes is honoured' : 'expiresInMinutes is ignored (24 h)', async () => {
    const { identity } = await create(undefined, version);
    const res = await t.acs('POST', idPath(identity.id, '/:issueAccessToken', version), {
      json: { scopes: ['chat'], expiresInMinutes: 60 },
    });
    expect(res.status).toBe(200);
    expect(lifetimeSeconds((res.json as { token: string }).token)).toBe(HAS_EXPIRY.has(version) ? 3600 : 86_400);
  });

  it('each scope is accepted only if this version had it', async () => {
    const { identity } = await create(undefined, version);
    for (const scope of ALL_SCOPES) {
      const allowed = scope === 'chat' || scope === 'voip' || HAS_JOIN_SCOPES.has(version);
      const res = await t.acs('POST', idPath(identity.id, '/:issueAccessToken', version), {
        json: { scopes: [scope] },
      });
      expect(res.status, scope).toBe(allowed ? 200 : 400);
      if (!allowed) expect(errorOf(res)).toMatchObject({ code: 'ValidationError', target: 'scopes' });
    }
  });

  it(version === PREVIEW ? 'customId is honoured' : 'customId is ignored', async () => {
    const customId = `user-${version}`;
    const a = await create({ customId }, version);
    const b = await create({ customId }, version);
    expect(b.identity.id === a.identity.id).toBe(version === PREVIEW);
    expect(a.identity).toEqual(version === PREVIEW ? { id: a.identity.id, customId } : { id: a.identity.id });
  });

  it(
    version === PREVIEW ? 'GET /identities/{id} → 200' : 'GET /identities/{id} → 400 UnsupportedApiVersion',
    async () => {
      const { identity } = await create(undefined, version);
      const res = await t.acs('GET', idPath(identity.id, '', version));
      if (version === PREVIEW) expect(res.status).toBe(200);
      else expectError(res, 400, 'UnsupportedApiVersion');
    },
  );

  it(`Repeatability-Request-ID ${HAS_REPEATABILITY.has(version) ? 'returns the same identity' : 'is ignored'}`, async () => {
    const headers = {
      'repeatability-request-id': `3f2504e0-4f89-41d3-9a0c-${version.replace(/\D/g, '').slice(0, 12).padEnd(12, '0')}`,
      'repeatability-first-sent': new Date().toUTCString(),
    };
    const first = await t.acs('POST', `/identities?api-version=${version}`, { headers });
    const retry = await t.acs('POST', `/identities?api-version=${version}`, { headers });
    expect([first.status, retry.status]).toStrictEqual([201, 201]);
    const same =
      (first.json as { identity: { id: string } }).identity.id ===
      (retry.json as { identity: { id: string } }).identity.id;
    expect(same).toBe(HAS_REPEATABILITY.has(version));
    expect(retry.headers['repeatability-result']).toBe(HAS_REPEATABILITY.has(version) ? 'rejected' : undefined);
  });
});

describe('api-version gate', () => {
  it('missing or unknown api-version on an ACS route → 400 UnsupportedApiVersion (or the missing-version error)', async () => {
    expectError(await t.acs('POST', '/identities?api-version=2020-01-01'), 400, 'UnsupportedApiVersion');
    const missing = await t.acs('POST', '/identities');
    expect(missing.status).toBe(400);
    expect(errorOf(missing).code).toMatch(/ApiVersion/);
  });
});

describe('public endpoints: JWKS and discovery', () => {
  it('JWKS publishes the key that verifies issued tokens', async () => {
    const { identity } = await create();
    const token = await issue(identity.id);
    const res = await t.raw('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    const { keys } = res.json as { keys: Array<Record<string, string> & { kid: string }> };
    const { header } = decodeJwt(token);
    const jwk = keys.find((key) => key.kid === header.kid);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    const [h, p, s] = token.split('.');
    const ok = verifySignature(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: createPublicKey({ key: jwk ?? {}, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(s ?? '', 'base64url'),
    );
    expect(ok).toBe(true);
    expect(res.text).not.toMatch(/"d"\s*:/);
  });

  it('discovery names the issuer and the JWKS URI on the advertised endpoint', async () => {
    const res = await t.raw('GET', '/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      issuer: `urn:tessera:resource:${t.resourceId}`,
      jwks_uri: `${INJECT_ENDPOINT}.well-known/jwks.json`,
    });
  });

  it('/healthz and /readyz answer 200 without auth', async () => {
    expect((await t.raw('GET', '/healthz')).status).toBe(200);
    expect((await t.raw('GET', '/readyz')).status).toBe(200);
  });
});

describe('admin keys', () => {
  it('GET /admin/keys lists the keys to the primary key and refuses the verifier key (403)', async () => {
    const res = await t.acs('GET', '/admin/keys');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ primaryKey: t.key('primary'), secondaryKey: t.key('secondary') });
    const denied = await t.acs('GET', '/admin/keys', { accessKey: t.key('verifier') });
    expect(denied.status).toBe(403);
    expect(denied.text).not.toContain(t.key('primary'));
  });

  it('regenerating the secondary key refuses the old one at once and accepts the new one', async () => {
    const old = t.key('secondary');
    const res = await t.acs('POST', '/admin/keys/:regenerate', { json: { key: 'secondary' } });
    expect(res.status, res.text).toBe(200);
    const fresh = t.key('secondary');
    expect(fresh).not.toBe(old);
    expectError(await t.acs('POST', `/identities?api-version=${V}`, { accessKey: old }), 401, 'Denied');
    expect((await t.acs('POST', `/identities?api-version=${V}`, { accessKey: fresh })).status).toBe(201);
    const events = await t.store.listEvents(0, 100);
    expect(events.filter((event) => event.type === 'key.regenerated')).toHaveLength(1);
  });

  it('an unknown key name → 400, nothing regenerated', async () => {
    const res = await t.acs('POST', '/admin/keys/:regenerate', { json: { key: 'tertiary' } });
    expect(res.status).toBe(400);
  });
});

describe('framing errors: 404, 405, 413, 415, malformed JSON', () => {
  it('an unknown path → 404 NotFound ERR_NOT_FOUND_ROUTE naming method and path (no query)', async () => {
    const error = expectError(await t.raw('GET', '/no/such/route?x=1'), 404, 'NotFound', 'ERR_NOT_FOUND_ROUTE');
    expect(error.message).toBe('No resource matches GET /no/such/route.');
  });

  // ERR_METHOD_NOT_ALLOWED (405) is in the error table, but no route answers it: another method on a known path is
  // "no such resource", as ACS answers it.
  it('a known path with another method → 404 NotFound, signed or not', async () => {
    expectError(await t.acs('PUT', `/identities?api-version=${V}`), 404, 'NotFound', 'ERR_NOT_FOUND_ROUTE');
    expectError(await t.raw('DELETE', '/.well-known/jwks.json'), 404, 'NotFound', 'ERR_NOT_FOUND_ROUTE');
  });

  it('an oversized body → 413 RequestEntityTooLarge ERR_BODY_TOO_LARGE', async () => {
    const body = JSON.stringify({ createTokenWithScopes: ['chat'], pad: 'x'.repeat(70_000) });
    expectError(
      await t.acs('POST', `/identities?api-version=${V}`, { body }),
      413,
      'RequestEntityTooLarge',
      'ERR_BODY_TOO_LARGE',
    );
  });

  it('an unparseable or empty Content-Type → 415 UnsupportedMediaType ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const type of [';;;', '']) {
      const res = await t.acs('POST', `/identities?api-version=${V}`, {
        body: '{}',
        headers: { 'content-type': type },
      });
      expectError(res, 415, 'UnsupportedMediaType', 'ERR_UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('any other Content-Type is read as JSON (as ACS does): a form body → 400 InvalidRequestBody', async () => {
    const form = await t.acs('POST', `/identities?api-version=${V}`, {
      body: 'scopes=chat',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 400, 'InvalidRequestBody', 'ERR_BODY_MALFORMED');
    const text = await t.acs('POST', `/identities?api-version=${V}`, {
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(201);
  });

  it('malformed JSON → 400 InvalidRequestBody ERR_BODY_MALFORMED', async () => {
    expectError(
      await t.acs('POST', `/identities?api-version=${V}`, { body: '{"createTokenWithScopes":' }),
      400,
      'InvalidRequestBody',
      'ERR_BODY_MALFORMED',
    );
  });
});
