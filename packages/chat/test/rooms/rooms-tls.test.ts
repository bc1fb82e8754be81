// The official RoomsClient over TLS with no insecure option: with the access key (HMAC), and with a TokenCredential
// (bearer, as an Entra-authenticated app uses it) whose tokens come from a local OpenID provider and hold
// rooms/* data actions. The SDK refuses bearer tokens over http://, so this is the only way to drive bearer with it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { RoomsClient } from '@azure/communication-rooms';
import { createNodeVerifier } from '@tessera/verifier/node';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoomsOidcAuthenticator } from '../../src/rooms/rooms-oidc-authenticator.js';
import { roomsPlugin } from '../../src/rooms/rooms-plugin.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';

const AUDIENCE = 'https://communication.azure.com';
const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-tls-'));
const accessKey = randomBytes(32).toString('base64');
const store = createSqliteRoomsStore({ path: join(dir, 'rooms.db') });
const verifier = createNodeVerifier({ endpoint: 'http://127.0.0.1:9/', revocation: false });
let app: FastifyInstance;
let jwks: Server;
let endpoint = '';
let ca = '';
let credential: (roles: string[]) => TokenCredential;

beforeAll(async () => {
  // A throwaway certificate for 127.0.0.1 (openssl, as CI images have it); trusted through the SDK's tlsOptions.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(join(dir, 'cert.pem'), 'utf8');

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((done) => jwks.listen(0, '127.0.0.1', done));
  const issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  credential = (roles) => ({
    async getToken(scopes): Promise<AccessToken> {
      // What the SDK asks for, as ACS documents it.
      expect(scopes).toStrictEqual(['https://communication.azure.com//.default']);
      const expiresOnTimestamp = Date.now() + 600_000;
      const token = await new SignJWT({ roles })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject('app-under-test')
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresOnTimestamp / 1000))
        .sign(privateKey);
      return { token, expiresOnTimestamp };
    },
  });

  await store.migrate();
  app = Fastify({ https: { key: readFileSync(join(dir, 'key.pem')), cert: ca } });
  await app.register(roomsPlugin, {
    store,
    verifier,
    accessKeys: () => [{ name: 'primary', secret: Buffer.from(accessKey, 'base64') }],
    bearer: createRoomsOidcAuthenticator({
      issuers: [
        {
          issuer,
          audiences: [AUDIENCE],
          jwksUri: `${issuer}/jwks`,
          grants: [{ claim: 'roles', value: 'Rooms.Manage', actions: ['rooms/read', 'rooms/write'] }],
        },
      ],
    }),
  });
  endpoint = `${await app.listen({ host: '127.0.0.1', port: 0 })}/`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await store.close();
  await verifier.close();
  await new Promise((done) => jwks?.close(done));
  rmSync(dir, { recursive: true, force: true });
});

/**
 * RoomsClient 1.2.0 reads its client options from the second argument whenever that is not a KeyCredential — a
 * TokenCredential included — and then ignores the third (`isRoomsClientOptions` in roomsClient.js). So the test CA
 * rides on the credential object, where the unchanged SDK looks for it.
 */
function withCa(tokenCredential: TokenCredential): TokenCredential {
  return Object.assign(tokenCredential, { tlsOptions: { ca } });
}

describe('RoomsClient over TLS, unchanged', () => {
  it('with the connection string (HMAC)', async () => {
    expect(endpoint.startsWith('https://')).toBe(true);
    const client = new RoomsClient(`endpoint=${endpoint};accesskey=${accessKey}`, { tlsOptions: { ca } });
    const room = await client.createRoom({ pstnDialOutEnabled: true });
    expect((await client.getRoom(room.id)).pstnDialOutEnabled).toBe(true);
    await client.deleteRoom(room.id);
  });

  it('with a TokenCredential holding rooms/read and rooms/write (bearer)', async () => {
    const client = new RoomsClient(endpoint, withCa(credential(['Rooms.Manage'])));
    const room = await client.createRoom();
    const listed: string[] = [];
    for await (const r of client.listRooms()) listed.push(r.id);
    expect(listed).toContain(room.id);
    await client.deleteRoom(room.id);
  });

  it('a TokenCredential without the data action gets 403 Forbidden from the SDK', async () => {
    const client = new RoomsClient(endpoint, withCa(credential(['Other.Role'])));
    await expect(client.createRoom()).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
  });
});
