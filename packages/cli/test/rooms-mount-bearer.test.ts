// Rooms mounted in `tessera serve` authorizes bearer (OIDC) principals with the identity server's own role
// assignments: rooms-administrator, rooms-reader, owner, and a role without rooms/* actions; an unassigned role
// stops working on the next call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureKey,
  type JwksFixture,
  serviceAccountClaims,
  signJwt,
  startJwksFixture,
} from '../../oidc/test/jwks-fixture.js';
import { startTlsServer, type TlsServer, tlsRequest } from '../../server/test/oidc/oidc-helpers.js';
import { withChat } from '../src/chat-mount.js';

const AUDIENCE = 'tessera';
const API = 'api-version=2025-03-13';
const key = fixtureKey('k1', 'ES256');
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-rooms-bearer-'));
let issuer: JwksFixture;
let tessera: TlsServer;

const primary = () => ({ accessKey: tessera.primaryKey });
const bearer = (name: string) => ({ bearer: signJwt(key, serviceAccountClaims(issuer.issuer, 'ops', name, AUDIENCE)) });

async function assign(role: string, name: string): Promise<string> {
  const { status, json } = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
    role,
    issuer: issuer.issuer,
    principalType: 'subject',
    principalId: `system:serviceaccount:ops:${name}`,
  });
  expect(status, JSON.stringify(json)).toBe(201);
  return String(json.id);
}

beforeAll(async () => {
  issuer = await startJwksFixture([key]);
  const { options, mount } = withChat({
    dataDir,
    trustedIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [AUDIENCE] }],
  });
  tessera = await startTlsServer(options);
  mount.attach(tessera.server);
});

afterAll(async () => {
  await tessera?.close();
  await issuer?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('mounted Rooms: bearer principals by the server’s role assignments', () => {
  it('rooms-administrator manages rooms; rooms-reader reads only; owner everything; other roles nothing', async () => {
    await assign('rooms-administrator', 'rooms-admin');
    await assign('rooms-reader', 'rooms-reader');
    await assign('owner', 'owner');
    await assign('identity-administrator', 'identity-admin');

    const created = await tlsRequest(tessera, 'POST', `/rooms?${API}`, bearer('rooms-admin'), {});
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const roomId = String(created.json.id);
    expect((await tlsRequest(tessera, 'GET', `/rooms/${roomId}?${API}`, bearer('rooms-reader'))).status).toBe(200);
    const readerCreate = await tlsRequest(tessera, 'POST', `/rooms?${API}`, bearer('rooms-reader'), {});
    expect(readerCreate.status).toBe(403);
    expect(JSON.stringify(readerCreate.json)).toContain('rooms/write');
    expect((await tlsRequest(tessera, 'POST', `/rooms?${API}`, bearer('owner'), {})).status).toBe(201);
    const identityAdmin = await tlsRequest(tessera, 'GET', `/rooms/${roomId}?${API}`, bearer('identity-admin'));
    expect(identityAdmin.status).toBe(403);
    expect(JSON.stringify(identityAdmin.json)).toContain('rooms/read');
    expect((await tlsRequest(tessera, 'GET', `/rooms/${roomId}?${API}`, bearer('nobody'))).status).toBe(403);
  });

  it('an assignment removed through the admin API stops authorizing the next Rooms call', async () => {
    const id = await assign('rooms-administrator', 'short-lived');
    expect((await tlsRequest(tessera, 'POST', `/rooms?${API}`, bearer('short-lived'), {})).status).toBe(201);
    expect((await tlsRequest(tessera, 'DELETE', `/admin/roleAssignments/${id}`, primary())).status).toBe(204);
    expect((await tlsRequest(tessera, 'POST', `/rooms?${API}`, bearer('short-lived'), {})).status).toBe(403);
  });

  it('a token of an untrusted issuer or audience answers 401, never 500', async () => {
    const foreign = signJwt(key, serviceAccountClaims('https://elsewhere.example', 'ops', 'x', AUDIENCE));
    expect((await tlsRequest(tessera, 'GET', `/rooms?${API}`, { bearer: foreign })).status).toBe(401);
    const wrongAudience = signJwt(key, serviceAccountClaims(issuer.issuer, 'ops', 'rooms-admin', 'other'));
    expect((await tlsRequest(tessera, 'GET', `/rooms?${API}`, { bearer: wrongAudience })).status).toBe(401);
  });
});
