// Requirement 2 (versions): each api-version exposes only what it had on the real service (docs/spec/wire-protocol.md §1.1):
// expiresInMinutes from 2022-10-01, the three join scopes from 2023-10-01, customId and GET only on the preview,
// Repeatability-Request-ID from 2023-08-01.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_API_VERSIONS,
  ALL_SCOPES,
  acsRequest,
  type CreatedIdentity,
  createIdentity,
  decodeToken,
  errorOf,
  identityPath,
  identityClient,
  PREVIEW,
  startTestServer,
  type Target,
  type TestServer,
} from './helpers.js';

let ts: TestServer;
let target: Target;

beforeAll(async () => {
  ts = await startTestServer();
  target = { url: ts.url, accessKey: ts.primaryKey };
});
afterAll(async () => ts.close());

const HAS_EXPIRY = new Set(['2022-10-01', '2023-08-01', '2023-10-01', PREVIEW, '2025-06-30']);
const HAS_JOIN_SCOPES = new Set(['2023-10-01', PREVIEW, '2025-06-30']);
const HAS_REPEATABILITY = new Set(['2023-08-01', '2023-10-01', PREVIEW, '2025-06-30']);

function lifetimeSeconds(token: string): number {
  const { payload } = decodeToken(token);
  return (payload.exp as number) - (payload.iat as number);
}

describe.each(ALL_API_VERSIONS)('api-version %s', (version) => {
  const expiry = HAS_EXPIRY.has(version);

  it('create, issue, revoke and delete all work', async () => {
    const { identity } = await createIdentity(target, undefined, version);
    const issue = await acsRequest(target, 'POST', identityPath(identity.id, '/:issueAccessToken', version), {
      json: { scopes: ['chat', 'voip'] },
    });
    expect(issue.status).toBe(200);
    expect(decodeToken((issue.json as { token: string }).token).payload.acsScope).toBe('chat,voip');
    expect((await acsRequest(target, 'POST', identityPath(identity.id, '/:revokeAccessTokens', version))).status).toBe(
      204,
    );
    expect((await acsRequest(target, 'DELETE', identityPath(identity.id, '', version))).status).toBe(204);
  });

  it(
    expiry
      ? 'honours expiresInMinutes 60 on create and issue'
      : 'ignores expiresInMinutes (not in this version): tokens live 24 h',
    async () => {
      const created = await createIdentity(target, { createTokenWithScopes: ['chat'], expiresInMinutes: 60 }, version);
      expect(lifetimeSeconds(created.accessToken?.token ?? '')).toBe(expiry ? 3600 : 86_400);
      const issue = await acsRequest(target, 'POST', identityPath(created.identity.id, '/:issueAccessToken', version), {
        json: { scopes: ['voip'], expiresInMinutes: 60 },
      });
      expect(issue.status).toBe(200);
      expect(lifetimeSeconds((issue.json as { token: string }).token)).toBe(expiry ? 3600 : 86_400);
    },
  );

  it(
    expiry ? 'rejects expiresInMinutes 59 with 400' : 'ignores even an out-of-range expiresInMinutes (59) → 201/200',
    async () => {
      const create = await acsRequest(target, 'POST', `/identities?api-version=${version}`, {
        json: { createTokenWithScopes: ['chat'], expiresInMinutes: 59 },
      });
      expect(create.status).toBe(expiry ? 400 : 201);
      if (!expiry) expect(lifetimeSeconds((create.json as CreatedIdentity).accessToken?.token ?? '')).toBe(86_400);
      else expect(errorOf(create).target).toBe('ExpiresInMinutes');
    },
  );

  it.each(ALL_SCOPES)('scope %s is accepted only if this version had it', async (scope) => {
    const allowed = scope === 'chat' || scope === 'voip' || HAS_JOIN_SCOPES.has(version);
    const { identity } = await createIdentity(target, undefined, version);
    const issue = await acsRequest(target, 'POST', identityPath(identity.id, '/:issueAccessToken', version), {
      json: { scopes: [scope] },
    });
    expect(issue.status).toBe(allowed ? 200 : 400);
    if (allowed) expect(decodeToken((issue.json as { token: string }).token).payload.acsScope).toBe(scope);
    else expect(errorOf(issue)).toMatchObject({ code: 'ValidationError', target: 'scopes' });
    const create = await acsRequest(target, 'POST', `/identities?api-version=${version}`, {
      json: { createTokenWithScopes: [scope] },
    });
    expect(create.status).toBe(allowed ? 201 : 400);
  });

  it(
    version === PREVIEW
      ? 'customId is honoured: same customId → same identity, echoed in the body'
      : 'customId is ignored: same customId → two identities, no customId in the body',
    async () => {
      const customId = `user-${version}-${randomUUID()}`;
      const a = await createIdentity(target, { customId }, version);
      const b = await createIdentity(target, { customId }, version);
      if (version === PREVIEW) {
        expect(b.identity.id).toBe(a.identity.id);
        expect(a.identity).toEqual({ id: a.identity.id, customId });
      } else {
        expect(b.identity.id).not.toBe(a.identity.id);
        expect(a.identity).toEqual({ id: a.identity.id });
      }
    },
  );

  it(
    version === PREVIEW ? 'a customId that is not a 1..256 character string → 400' : 'an invalid customId is ignored',
    async () => {
      for (const customId of [42, '', 'x'.repeat(257), ['a']]) {
        const res = await acsRequest(target, 'POST', `/identities?api-version=${version}`, { json: { customId } });
        expect(res.status, JSON.stringify(customId).slice(0, 20)).toBe(version === PREVIEW ? 400 : 201);
        if (version === PREVIEW) expect(errorOf(res)).toMatchObject({ code: 'ValidationError', target: 'customId' });
      }
      const longest = await acsRequest(target, 'POST', `/identities?api-version=${version}`, {
        json: { customId: `${randomUUID()}${'y'.repeat(220)}` },
      });
      expect(longest.status).toBe(201);
    },
  );

  it(
    version === PREVIEW ? 'GET /identities/{id} → 200' : 'GET /identities/{id} → 400 UnsupportedApiVersion',
    async () => {
      const { identity } = await createIdentity(target, undefined, version);
      const res = await acsRequest(target, 'GET', identityPath(identity.id, '', version));
      expect(res.status).toBe(version === PREVIEW ? 200 : 400);
      if (version !== PREVIEW) expect(errorOf(res).code).toBe('UnsupportedApiVersion');
    },
  );

  it(
    HAS_REPEATABILITY.has(version)
      ? 'Repeatability-Request-ID: a retried create returns the same identity'
      : 'Repeatability-Request-ID is ignored (not in this version)',
    async () => {
      const headers = {
        'repeatability-request-id': randomUUID(),
        'repeatability-first-sent': new Date().toUTCString(),
      };
      const first = await acsRequest(target, 'POST', `/identities?api-version=${version}`, { headers });
      const retry = await acsRequest(target, 'POST', `/identities?api-version=${version}`, { headers });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      const same = (first.json as CreatedIdentity).identity.id === (retry.json as CreatedIdentity).identity.id;
      expect(same).toBe(HAS_REPEATABILITY.has(version));
      if (HAS_REPEATABILITY.has(version)) {
        expect(first.headers['repeatability-result']).toBe('accepted');
        expect(retry.headers['repeatability-result']).toBe('rejected');
      } else {
        expect(first.headers['repeatability-result']).toBeUndefined();
      }
    },
  );
});

it('the official SDK works when pinned to an older api-version (2021-03-07): expiry ignored, 24 h', async () => {
  const client = identityClient(ts.server.connectionString, { apiVersion: '2021-03-07' });
  const { token, expiresOn } = await client.createUserAndToken(['chat'], { tokenExpiresInMinutes: 60 });
  expect(lifetimeSeconds(token)).toBe(86_400);
  expect(decodeToken(token).payload.exp).toBe(expiresOn.getTime() / 1000);
});
