// Requirement 1: the official @azure/communication-identity client works against Tessera unchanged, the tokens it
// gets carry the documented claims and verify against the public JWKS; the preview features (customId, GET
// identity) work over raw HMAC, with a signer proven identical to the SDK's.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CommunicationIdentityClient, TokenScope } from '@azure/communication-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  acsRequest,
  createIdentity,
  decodeToken,
  FOREIGN_ID,
  fetchJwks,
  identityClient,
  identityPath,
  introspect,
  type Jwks,
  PREVIEW,
  RAW_ID,
  restErrorOf,
  SERVICE_DATE,
  signRequest,
  startTestServer,
  type Target,
  type TestServer,
  verifiesAgainstJwks,
} from './helpers.js';

let ts: TestServer;
let client: CommunicationIdentityClient;
let target: Target;
let jwks: Jwks;

beforeAll(async () => {
  ts = await startTestServer();
  client = identityClient(ts.server.connectionString);
  target = { url: ts.url, accessKey: ts.primaryKey };
  jwks = await fetchJwks(ts.url);
});
afterAll(async () => ts.close());

/** Asserts every documented claim of a token the SDK got back. */
function expectClaims(
  token: string,
  expected: { userId: string; scopes: readonly string[]; expiresOn: Date; minutes: number; rev?: number },
): void {
  const { header, payload } = decodeToken(token);
  expect(header.alg).toBe('ES256');
  expect(header.typ).toBe('JWT');
  expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
  expect(payload.sub).toBe(expected.userId);
  expect(payload.skypeid).toBe(expected.userId.slice(2));
  expect(payload.acsScope).toBe(expected.scopes.join(','));
  expect((payload.exp as number) * 1000).toBe(expected.expiresOn.getTime());
  expect((payload.exp as number) - (payload.iat as number)).toBe(expected.minutes * 60);
  expect(payload.nbf).toBe(payload.iat);
  expect(payload.csi).toBe(String(payload.iat));
  expect(Math.abs((payload.iat as number) * 1000 - Date.now())).toBeLessThan(60_000);
  expect(payload.resourceId).toBe(ts.server.resourceId);
  expect(payload.resourceLocation).toBe('unitedstates');
  expect(payload.rgn).toBe('amer');
  expect(payload.scp).toBe(1792);
  expect(payload.tsv).toBe(2);
  expect(payload.rev).toBe(expected.rev ?? 0);
  expect(payload.akv).toBe('primary.1');
  expect(payload.iss).toBe(`urn:tessera:resource:${ts.server.resourceId}`);
  expect(payload.aud).toBe('urn:tessera:user-access');
  expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  expect(verifiesAgainstJwks(token, jwks)).toBe(true);
}

/** Every non-empty combination of the five scopes, in canonical order. */
function allCombinations(): TokenScope[][] {
  const out: TokenScope[][] = [];
  for (let mask = 1; mask < 1 << ALL_SCOPES.length; mask++) {
    out.push(ALL_SCOPES.filter((_, i) => (mask & (1 << i)) !== 0));
  }
  return out;
}

describe('official SDK: CommunicationIdentityClient against Tessera', () => {
  it('createUser returns a communication user id of this resource', async () => {
    const user = await client.createUser();
    const m = RAW_ID.exec(user.communicationUserId);
    expect(m?.[1]).toBe(ts.server.resourceId);
    const other = await client.createUser();
    expect(other.communicationUserId).not.toBe(user.communicationUserId);
  });

  it.each(ALL_SCOPES.map((s) => [s]))(
    'createUserAndToken with scope %s returns a token with the documented claims',
    async (scope) => {
      const result = await client.createUserAndToken([scope]);
      expectClaims(result.token, {
        userId: result.user.communicationUserId,
        scopes: [scope],
        expiresOn: result.expiresOn,
        minutes: 1440,
      });
    },
  );

  it('createUserAndToken with all five scopes at once', async () => {
    const scopes: TokenScope[] = [...ALL_SCOPES];
    const result = await client.createUserAndToken(scopes);
    expectClaims(result.token, {
      userId: result.user.communicationUserId,
      scopes,
      expiresOn: result.expiresOn,
      minutes: 1440,
    });
  });

  it.each([60, 1440, 61, 720])('createUserAndToken with tokenExpiresInMinutes %i', async (minutes) => {
    const result = await client.createUserAndToken(['chat', 'voip'], { tokenExpiresInMinutes: minutes });
    expectClaims(result.token, {
      userId: result.user.communicationUserId,
      scopes: ['chat', 'voip'],
      expiresOn: result.expiresOn,
      minutes,
    });
  });

  it('getToken for each of the 31 combinations of the 2023-10-01 scopes', async () => {
    const user = await client.createUser();
    for (const scopes of allCombinations()) {
      const token = await client.getToken(user, scopes);
      expectClaims(token.token, {
        userId: user.communicationUserId,
        scopes,
        expiresOn: token.expiresOn,
        minutes: 1440,
      });
    }
  });

  it.each([60, 61, 1439, 1440])('getToken with tokenExpiresInMinutes %i', async (minutes) => {
    const user = await client.createUser();
    const token = await client.getToken(user, ['voip.join'], { tokenExpiresInMinutes: minutes });
    expectClaims(token.token, {
      userId: user.communicationUserId,
      scopes: ['voip.join'],
      expiresOn: token.expiresOn,
      minutes,
    });
  });

  it('getToken de-duplicates a repeated scope', async () => {
    const user = await client.createUser();
    const token = await client.getToken(user, ['chat', 'chat', 'voip']);
    expect(decodeToken(token.token).payload.acsScope).toBe('chat,voip');
  });

  it('revokeTokens resolves, and tokens minted afterwards carry the next revocation epoch', async () => {
    const user = await client.createUser();
    const before = await client.getToken(user, ['chat']);
    await client.revokeTokens(user);
    const after = await client.getToken(user, ['chat']);
    expectClaims(after.token, {
      userId: user.communicationUserId,
      scopes: ['chat'],
      expiresOn: after.expiresOn,
      minutes: 1440,
      rev: 1,
    });
    expect(await introspect(target, before.token)).toEqual({ active: false, reason: 'ERR_TOKEN_REVOKED' });
    expect((await introspect(target, after.token)).active).toBe(true);
    await client.revokeTokens(user);
    await client.revokeTokens(user);
    const third = await client.getToken(user, ['chat']);
    expect(decodeToken(third.token).payload.rev).toBe(3);
  });

  it('deleteUser resolves; the user can no longer get tokens (404 IdentityDeleted) and its tokens die', async () => {
    const { user, token } = await client.createUserAndToken(['chat']);
    await client.deleteUser(user);
    const error = restErrorOf(await client.getToken(user, ['chat']).catch((e: unknown) => e));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('IdentityDeleted');
    expect(await introspect(target, token)).toEqual({ active: false, reason: 'ERR_TOKEN_IDENTITY_DELETED' });
  });

  it.each([
    ['getToken', (c: CommunicationIdentityClient) => c.getToken({ communicationUserId: FOREIGN_ID }, ['chat'])],
    ['revokeTokens', (c: CommunicationIdentityClient) => c.revokeTokens({ communicationUserId: FOREIGN_ID })],
    ['deleteUser', (c: CommunicationIdentityClient) => c.deleteUser({ communicationUserId: FOREIGN_ID })],
  ])(
    '%s on another resource’s identity rejects with 401 IdentityNotOwned, as the real service',
    async (_name, call) => {
      const error = restErrorOf(await call(client).catch((e: unknown) => e));
      expect(error.statusCode).toBe(401);
      expect(error.code).toBe('IdentityNotOwned');
      expect(error.message).toBe("Provided identity doesn't belong to the resource.");
    },
  );

  it('getToken with expiresInMinutes 59 rejects with 400 ValidationError', async () => {
    const user = await client.createUser();
    const error = restErrorOf(
      await client.getToken(user, ['chat'], { tokenExpiresInMinutes: 59 }).catch((e: unknown) => e),
    );
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('ValidationError');
    expect(error.message).toBe('ExpiresInMinutes value 59 is invalid. Value must be within the [60, 1440] interval.');
  });

  it('every token so far verifies against GET /.well-known/jwks.json; a foreign ES256 key does not', async () => {
    const { token } = await client.createUserAndToken(['chat']);
    expect(verifiesAgainstJwks(token, jwks)).toBe(true);
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(Object.keys(k)).not.toContain('d');
    }
    const other = await startTestServer();
    try {
      expect(verifiesAgainstJwks(token, await fetchJwks(other.url))).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('discovery document points at the JWKS, introspection and the revocation feed of this server', async () => {
    const res = await acsRequest(target, 'GET', '/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      issuer: `urn:tessera:resource:${ts.server.resourceId}`,
      jwks_uri: `${ts.url}.well-known/jwks.json`,
      introspection_endpoint: `${ts.url}tokens/:introspect`,
      revocation_feed_endpoint: `${ts.url}revocations`,
      tessera_audience: 'urn:tessera:user-access',
      id_token_signing_alg_values_supported: ['ES256'],
    });
  });
});

describe('2025-03-02-preview over raw HMAC (customId, GET identity)', () => {
  it('create with the same customId twice returns the same identity (idempotent), with customId in the body', async () => {
    const customId = `alice-${Date.now()}@contoso.com`;
    const first = await createIdentity(target, { customId }, PREVIEW);
    const second = await createIdentity(target, { customId }, PREVIEW);
    expect(first.identity.id).toMatch(RAW_ID);
    expect(second.identity.id).toBe(first.identity.id);
    expect(first.identity.customId).toBe(customId);
    expect(second.identity.customId).toBe(customId);
    const different = await createIdentity(target, { customId: `${customId}.2` }, PREVIEW);
    expect(different.identity.id).not.toBe(first.identity.id);
  });

  it('create with customId and scopes returns a token and lastTokenIssuedAt; the same customId again returns the same id', async () => {
    const customId = `bob-${Date.now()}`;
    const first = await createIdentity(target, { customId, createTokenWithScopes: ['chat'] }, PREVIEW);
    expect(first.accessToken?.token).toBeTypeOf('string');
    expect(first.identity.lastTokenIssuedAt).toMatch(SERVICE_DATE);
    expect(decodeToken(first.accessToken?.token ?? '').payload.sub).toBe(first.identity.id);
    const again = await createIdentity(target, { customId, createTokenWithScopes: ['voip'] }, PREVIEW);
    expect(again.identity.id).toBe(first.identity.id);
    expect(decodeToken(again.accessToken?.token ?? '').payload.sub).toBe(first.identity.id);
  });

  it('GET /identities/{id} returns id and customId, and lastTokenIssuedAt only once a token was issued', async () => {
    const customId = `carol-${Date.now()}`;
    const { identity } = await createIdentity(target, { customId }, PREVIEW);
    const fresh = await acsRequest(target, 'GET', identityPath(identity.id, '', PREVIEW));
    expect(fresh.status).toBe(200);
    expect(fresh.json).toEqual({ id: identity.id, customId });

    const before = Date.now();
    await client.getToken({ communicationUserId: identity.id }, ['chat']);
    const after = await acsRequest(target, 'GET', identityPath(identity.id, '', PREVIEW));
    expect(after.status).toBe(200);
    const body = after.json as { id: string; customId: string; lastTokenIssuedAt: string };
    expect(body.id).toBe(identity.id);
    expect(body.customId).toBe(customId);
    expect(body.lastTokenIssuedAt).toMatch(SERVICE_DATE);
    const at = new Date(body.lastTokenIssuedAt).getTime();
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('ten concurrent creates with the same new customId all answer 201 with one and the same identity', async () => {
    const customId = `race-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => createIdentity(target, { customId }, PREVIEW)));
    expect(new Set(results.map((r) => r.identity.id)).size).toBe(1);
  });

  it('GET /identities/{id} of an identity created without customId has no customId', async () => {
    const user = await client.createUser();
    const res = await acsRequest(target, 'GET', identityPath(user.communicationUserId, '', PREVIEW));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: user.communicationUserId });
  });

  it('GET /identities/{id} for unknown, deleted and foreign identities', async () => {
    const unknown = `8:acs:${ts.server.resourceId}_0190b6c4-0000-7000-8000-000000000000`;
    const notFound = await acsRequest(target, 'GET', identityPath(unknown, '', PREVIEW));
    expect(notFound.status).toBe(404);
    expect((notFound.json as { error: { code: string } }).error.code).toBe('IdentityNotFound');

    const user = await client.createUser();
    await client.deleteUser(user);
    const deleted = await acsRequest(target, 'GET', identityPath(user.communicationUserId, '', PREVIEW));
    expect(deleted.status).toBe(404);
    expect((deleted.json as { error: { code: string } }).error.code).toBe('IdentityDeleted');

    const foreign = await acsRequest(target, 'GET', identityPath(FOREIGN_ID, '', PREVIEW));
    expect(foreign.status).toBe(401);
    expect((foreign.json as { error: { code: string } }).error.code).toBe('IdentityNotOwned');
  });
});

describe('the test HMAC signer is the SDK signer', () => {
  interface Recorded {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }
  let recorder: Server;
  let recorded: Recorded[] = [];
  let recorderUrl = '';

  beforeAll(async () => {
    // A tiny server that records exactly what the official client puts on the wire and answers plausibly.
    recorder = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        recorded.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const token = { token: 'a.b.c', expiresOn: '2030-01-01T00:00:00.0000000+00:00' };
        res.setHeader('content-type', 'application/json; charset=utf-8');
        if (req.url?.startsWith('/identities?')) {
          res.statusCode = 201;
          res.end(
            JSON.stringify({
              identity: { id: `8:acs:${ts.server.resourceId}_0190b6c4-0000-7000-8000-000000000001` },
              accessToken: token,
            }),
          );
        } else if (req.url?.includes(':issueAccessToken')) {
          res.statusCode = 200;
          res.end(JSON.stringify(token));
        } else {
          res.statusCode = 204;
          res.end();
        }
      });
    });
    await new Promise<void>((done) => recorder.listen(0, '127.0.0.1', done));
    recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;
  });
  afterAll(async () => new Promise<void>((done) => recorder.close(() => done())));

  it('signs createUserAndToken, getToken (percent-encoded id) and revokeTokens byte-for-byte like the SDK', async () => {
    recorded = [];
    const sdk = identityClient(`endpoint=${recorderUrl};accesskey=${ts.primaryKey}`);
    await sdk.createUserAndToken(['chat', 'voip'], { tokenExpiresInMinutes: 60 });
    const user = { communicationUserId: `8:acs:${ts.server.resourceId}_0190b6c4-0000-7000-8000-000000000001` };
    await sdk.getToken(user, ['voip.join']);
    await sdk.revokeTokens(user);
    expect(recorded).toHaveLength(3);
    expect(recorded[1]?.url).toContain('8%3Aacs%3A');

    for (const r of recorded) {
      const date = r.headers['x-ms-date'];
      expect(date).toBeTypeOf('string');
      const mine = signRequest({
        method: r.method,
        pathAndQuery: r.url,
        host: r.headers.host ?? '',
        body: r.body,
        accessKey: ts.primaryKey,
        date: String(date),
      });
      expect(r.headers['x-ms-content-sha256']).toBe(mine.contentHash);
      expect(r.headers.authorization).toBe(mine.authorization);
    }
  });

  it('a request signed by the test signer for the same operation is accepted by Tessera', async () => {
    const body = recorded[0]?.body ?? '';
    const res = await acsRequest(target, 'POST', `/identities?api-version=2023-10-01`, { body });
    expect(res.status).toBe(201);
    expect((res.json as { identity: { id: string } }).identity.id).toMatch(RAW_ID);
  });
});
