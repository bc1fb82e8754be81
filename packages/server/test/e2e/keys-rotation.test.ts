// Requirement 5 (server side): regenerating an access key stops it at once and revokes exactly the tokens minted
// by requests it signed; the read-only verifier key can introspect and read the feed and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  decodeToken,
  errorOf,
  identityClient,
  identityPath,
  introspect,
  issueToken,
  readEventStream,
  restErrorOf,
  signedGetHeaders,
  startTestServer,
  type Target,
  type TestServer,
  targetOf,
} from './helpers.js';

interface KeysBody {
  primaryKey: string;
  secondaryKey: string;
  verifierKey: string;
  primaryConnectionString: string;
  secondaryConnectionString: string;
  verifierConnectionString: string;
}

describe('access key regeneration', () => {
  let ts: TestServer;
  let primary: Target;
  let secondary: Target;
  let keys: KeysBody;

  beforeAll(async () => {
    ts = await startTestServer();
    primary = { url: ts.url, accessKey: ts.primaryKey };
    const res = await acsRequest(primary, 'GET', '/admin/keys');
    expect(res.status).toBe(200);
    keys = res.json as KeysBody;
    secondary = { url: ts.url, accessKey: keys.secondaryKey };
  });
  afterAll(async () => ts.close());

  it('GET /admin/keys lists the three keys and their connection strings', () => {
    expect(keys.primaryKey).toBe(ts.primaryKey);
    expect(keys.verifierKey).toBe(ts.verifierKey);
    expect(new Set([keys.primaryKey, keys.secondaryKey, keys.verifierKey]).size).toBe(3);
    expect(keys.primaryConnectionString).toBe(`endpoint=${ts.url};accesskey=${keys.primaryKey}`);
    expect(keys.secondaryConnectionString).toBe(`endpoint=${ts.url};accesskey=${keys.secondaryKey}`);
    expect(keys.verifierConnectionString).toBe(ts.server.verifierConnectionString);
  });

  it('regenerating primary: old primary 401 at once, its tokens ERR_TOKEN_KEY_ROTATED, secondary tokens stay active', async () => {
    const viaPrimary = await createIdentity(primary, { createTokenWithScopes: ['chat'] });
    const issuedPrimary = await issueToken(primary, viaPrimary.identity.id, ['voip']);
    const viaSecondary = await createIdentity(secondary, { createTokenWithScopes: ['chat'] });
    expect(decodeToken(issuedPrimary.token).payload.akv).toBe('primary.1');
    expect(decodeToken(viaSecondary.accessToken?.token ?? '').payload.akv).toBe('secondary.1');

    const regen = await acsRequest(secondary, 'POST', '/admin/keys/:regenerate', { json: { key: 'primary' } });
    expect(regen.status, regen.text).toBe(200);
    const next = regen.json as KeysBody;
    expect(next.primaryKey).not.toBe(keys.primaryKey);
    expect(next.secondaryKey).toBe(keys.secondaryKey);
    expect(next.verifierKey).toBe(keys.verifierKey);

    const stale = await acsRequest(primary, 'POST', '/identities?api-version=2023-10-01');
    expect(stale.status).toBe(401);
    expect(errorOf(stale)).toMatchObject({ code: 'Denied', innererror: { code: 'ERR_AUTH_SIGNATURE_MISMATCH' } });
    const sdkError = restErrorOf(
      await identityClient(ts.server.connectionString)
        .createUser()
        .catch((e: unknown) => e),
    );
    expect(sdkError.statusCode).toBe(401);

    for (const token of [viaPrimary.accessToken?.token ?? '', issuedPrimary.token]) {
      expect(await introspect(secondary, token)).toEqual({ active: false, reason: 'ERR_TOKEN_KEY_ROTATED' });
    }
    expect((await introspect(secondary, viaSecondary.accessToken?.token ?? '')).active).toBe(true);

    const fresh: Target = { url: ts.url, accessKey: next.primaryKey };
    const minted = await issueToken(fresh, viaPrimary.identity.id, ['chat']);
    expect(decodeToken(minted.token).payload.akv).toBe('primary.2');
    expect((await introspect(fresh, minted.token)).active).toBe(true);
    const sdk = identityClient(next.primaryConnectionString);
    expect((await sdk.createUserAndToken(['chat'])).token).toBeTypeOf('string');

    const snapshot = await acsRequest(fresh, 'GET', '/revocations/snapshot');
    expect((snapshot.json as { keys: Record<string, number> }).keys).toMatchObject({ primary: 2, secondary: 1 });

    // Then secondary: now its tokens go, the new primary's stay.
    const regen2 = await acsRequest(fresh, 'POST', '/admin/keys/:regenerate', { json: { key: 'secondary' } });
    expect(regen2.status).toBe(200);
    expect(await introspect(fresh, viaSecondary.accessToken?.token ?? '')).toEqual({
      active: false,
      reason: 'ERR_TOKEN_KEY_ROTATED',
    });
    expect((await introspect(fresh, minted.token)).active).toBe(true);
    expect((await acsRequest(secondary, 'GET', '/admin/keys')).status).toBe(401);
    primary = fresh;
    secondary = { url: ts.url, accessKey: (regen2.json as KeysBody).secondaryKey };
  });

  it('the primary key can regenerate itself; the answer carries the new key, and the old one is dead for the next request', async () => {
    const res = await acsRequest(primary, 'POST', '/admin/keys/:regenerate', { json: { key: 'primary' } });
    expect(res.status).toBe(200);
    const next = res.json as KeysBody;
    expect(next.primaryKey).not.toBe(primary.accessKey);
    expect((await acsRequest(primary, 'GET', '/admin/keys')).status).toBe(401);
    primary = { url: ts.url, accessKey: next.primaryKey };
    expect((await acsRequest(primary, 'GET', '/admin/keys')).status).toBe(200);
  });

  it.each([{ key: 'tertiary' }, { key: null }, {}, { key: ['primary'] }])(
    'regenerate with %j → 400 ValidationError target key',
    async (json) => {
      const res = await acsRequest(primary, 'POST', '/admin/keys/:regenerate', { json });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 'ValidationError', target: 'key' });
    },
  );
});

describe('the verifier key is read-only', () => {
  let ts: TestServer;
  let full: Target;
  let verifier: Target;
  let id = '';
  let token = '';

  beforeAll(async () => {
    ts = await startTestServer();
    full = { url: ts.url, accessKey: ts.primaryKey };
    verifier = targetOf(ts.server.verifierConnectionString);
    const created = await createIdentity(full, { createTokenWithScopes: ['chat'] });
    id = created.identity.id;
    token = created.accessToken?.token ?? '';
  });
  afterAll(async () => ts.close());

  it('can introspect', async () => {
    expect((await introspect(verifier, token)).active).toBe(true);
  });

  it('can read the revocation snapshot', async () => {
    await acsRequest(full, 'POST', identityPath(id, '/:revokeAccessTokens'));
    const res = await acsRequest(verifier, 'GET', '/revocations/snapshot');
    expect(res.status).toBe(200);
    const snapshot = res.json as { seq: number; identities: Array<{ id: string; epoch: number }> };
    expect(snapshot.identities).toContainEqual(expect.objectContaining({ id, epoch: 1 }));
  });

  it('can read the revocation feed (SSE, starts with a snapshot)', async () => {
    const stream = await readEventStream(
      ts.url,
      '/revocations',
      signedGetHeaders(verifier, '/revocations'),
      /event: snapshot\n(?:id: \d+\n)?data: .*\n\n/,
    );
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.text).toContain(id);
  });

  it('the revocation feed response carries api-supported-versions and echoes x-ms-client-request-id like every other', async () => {
    const stream = await readEventStream(
      ts.url,
      '/revocations',
      { ...signedGetHeaders(verifier, '/revocations'), 'x-ms-client-request-id': 'feed-request-1' },
      /event: snapshot\n/,
    );
    expect(stream.status).toBe(200);
    expect(stream.headers['api-supported-versions']).toBe(
      '2021-03-07, 2022-06-01, 2022-10-01, 2023-08-01, 2023-10-01, 2025-03-02-preview, 2025-06-30',
    );
    expect(stream.headers['x-ms-client-request-id']).toBe('feed-request-1');
  });

  it('gets 403 Forbidden on create, issue, revoke, delete and the admin endpoints — and nothing happens', async () => {
    const attempts = [
      await acsRequest(verifier, 'POST', '/identities?api-version=2023-10-01', {
        json: { createTokenWithScopes: ['chat'] },
      }),
      await acsRequest(verifier, 'POST', identityPath(id, '/:issueAccessToken'), { json: { scopes: ['chat'] } }),
      await acsRequest(verifier, 'POST', identityPath(id, '/:revokeAccessTokens')),
      await acsRequest(verifier, 'DELETE', identityPath(id)),
      await acsRequest(verifier, 'GET', '/admin/keys'),
      await acsRequest(verifier, 'POST', '/admin/keys/:regenerate', { json: { key: 'primary' } }),
      await acsRequest(verifier, 'POST', '/admin/keys/:regenerate', { json: { key: 'verifier' } }),
      await acsRequest(verifier, 'GET', '/admin/roles'),
      await acsRequest(verifier, 'GET', '/admin/roleAssignments'),
      await acsRequest(verifier, 'GET', '/admin/audit'),
    ];
    for (const res of attempts) {
      expect(res.status, res.text).toBe(403);
      expect(errorOf(res)).toMatchObject({ code: 'Forbidden', innererror: { code: 'ERR_FORBIDDEN' } });
      expect(res.text).not.toContain(ts.verifierKey);
      expect(res.text).not.toContain(ts.primaryKey);
    }
    // The identity is neither revoked again nor deleted, and the keys are unchanged.
    const snapshot = (await acsRequest(full, 'GET', '/revocations/snapshot')).json as {
      identities: Array<{ id: string; epoch: number; deleted: boolean }>;
      keys: Record<string, number>;
    };
    expect(snapshot.identities.find((i) => i.id === id)).toMatchObject({ epoch: 1, deleted: false });
    expect(snapshot.keys).toMatchObject({ primary: 1, secondary: 1 });
    expect((await acsRequest(verifier, 'POST', '/tokens/:introspect', { json: { token } })).status).toBe(200);
  });

  it('the official SDK with the verifier connection string is refused (403) on createUser', async () => {
    const error = restErrorOf(
      await identityClient(ts.server.verifierConnectionString)
        .createUser()
        .catch((e: unknown) => e),
    );
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('Forbidden');
  });
});
