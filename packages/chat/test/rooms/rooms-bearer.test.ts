// Bearer (OIDC) authentication of the Rooms API with data actions: a local OpenID provider's JWKS (served over
// loopback http), tokens signed with its key, grants by claim, and every route refusing a token that lacks its action.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeVerifier } from '@tessera/verifier/node';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomsPlugin } from '../../src/rooms/rooms-plugin.js';
import { createRoomsOidcAuthenticator } from '../../src/rooms/rooms-oidc-authenticator.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';

const API = 'api-version=2025-03-13';
const AUDIENCE = 'api://tessera-rooms';

let jwksServer: Server;
let issuer = '';
let sign: (claims: Record<string, unknown>, options?: { audience?: string; expiresIn?: string }) => Promise<string>;
let app: FastifyInstance;
const store = createSqliteRoomsStore({ path: ':memory:' });
// Not asked to verify a real user token here: no identity server is needed for bearer-authenticated management.
const verifier = createNodeVerifier({ endpoint: 'http://127.0.0.1:9/', revocation: false });

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((done) => jwksServer.listen(0, '127.0.0.1', done));
  issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
  sign = (claims, options = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject(String(claims.sub ?? 'app-1'))
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '10m')
      .sign(privateKey);
  await store.migrate();
  app = Fastify();
  await app.register(roomsPlugin, {
    store,
    verifier,
    accessKeys: () => [],
    bearer: createRoomsOidcAuthenticator({
      issuers: [
        {
          issuer,
          audiences: [AUDIENCE],
          jwksUri: `${issuer}/jwks`,
          grants: [
            { claim: 'roles', value: 'Rooms.Manage', actions: ['rooms/read', 'rooms/write'] },
            { claim: 'roles', value: 'Rooms.Read', actions: ['rooms/read'] },
            { claim: 'azp', value: 'media-server', actions: ['rooms/decide'] },
          ],
        },
      ],
    }),
  });
});

afterAll(async () => {
  await app?.close();
  await store.close();
  await verifier.close();
  await new Promise((done) => jwksServer.close(done));
});

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, body?: unknown) {
  const response = await app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return {
    status: response.statusCode,
    json: response.body === '' ? undefined : (response.json() as Record<string, unknown>),
  };
}

describe('Rooms API with OIDC bearer tokens', () => {
  it('a token granted Rooms.Manage creates, reads, updates and deletes rooms', async () => {
    const token = await sign({ roles: ['Rooms.Manage'] });
    const created = await call('POST', `/rooms?${API}`, token, { pstnDialOutEnabled: true });
    expect(created.status).toBe(201);
    const id = String(created.json?.id);
    expect((await call('GET', `/rooms/${id}?${API}`, token)).json).toMatchObject({ id, pstnDialOutEnabled: true });
    expect((await call('PATCH', `/rooms/${id}?${API}`, token, { pstnDialOutEnabled: false })).status).toBe(200);
    expect((await call('DELETE', `/rooms/${id}?${API}`, token)).status).toBe(204);
  });

  it('each route refuses a token without its data action: 403 naming the action', async () => {
    const manager = await sign({ roles: ['Rooms.Manage'] });
    const id = String((await call('POST', `/rooms?${API}`, manager, {})).json?.id);
    const reader = await sign({ roles: ['Rooms.Read'] });
    const nobody = await sign({ roles: ['Something.Else'] });
    expect((await call('GET', `/rooms/${id}?${API}`, reader)).status).toBe(200);
    expect((await call('GET', `/rooms?${API}`, reader)).status).toBe(200);
    for (const [method, url, body] of [
      ['POST', `/rooms?${API}`, {}],
      ['PATCH', `/rooms/${id}?${API}`, {}],
      ['DELETE', `/rooms/${id}?${API}`, undefined],
      ['PATCH', `/rooms/${id}/participants?${API}`, { participants: {} }],
      ['POST', `/rooms/${id}/decisions:evaluate`, { token: 'x', action: 'join' }],
    ] as const) {
      const r = await call(method, url, reader, body);
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.json).toMatchObject({ error: { code: 'Forbidden', innererror: { code: 'ERR_FORBIDDEN' } } });
    }
    const none = await call('GET', `/rooms/${id}?${API}`, nobody);
    expect(none.status).toBe(403);
    expect(JSON.stringify(none.json)).toContain("'rooms/read'");
  });

  it('a media server (azp grant) may ask for decisions and nothing else', async () => {
    const manager = await sign({ roles: ['Rooms.Manage'] });
    const id = String((await call('POST', `/rooms?${API}`, manager, {})).json?.id);
    const media = await sign({ azp: 'media-server' });
    const decision = await call('POST', `/rooms/${id}/decisions:evaluate`, media, { token: 'forged', action: 'join' });
    expect(decision.status).toBe(200);
    expect(decision.json).toMatchObject({ allowed: false, reason: 'token', code: 'ERR_TOKEN_MALFORMED' });
    expect((await call('GET', `/rooms/${id}?${API}`, media)).status).toBe(403);
  });

  it('wrong audience, expired, or a foreign issuer: 401, never a 500', async () => {
    for (const token of [
      await sign({ roles: ['Rooms.Manage'] }, { audience: 'api://other' }),
      await sign({ roles: ['Rooms.Manage'] }, { expiresIn: '-5m' }),
      'eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.',
      'garbage',
    ]) {
      const r = await call('GET', `/rooms?${API}`, token);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ error: { code: 'InvalidAccessToken' } });
    }
  });
});
