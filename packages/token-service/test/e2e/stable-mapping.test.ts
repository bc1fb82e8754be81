import { join } from 'node:path';
import { DEFAULT_PREVIEW_API_VERSION, IdentityClient } from '@tessera/client';
import { isTesseraError } from '@tessera/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customIdFor } from '../../src/mapping/custom-id.js';
import { type Stack, call, claimsOf, introspect, startStack } from '../helpers/stack.js';

let stack: Stack;
let admin: IdentityClient;

function identitiesWithCustomId(customId: string): number {
  const db = new Database(join(stack.identityDataDir, 'tessera.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM identities WHERE custom_id = ?').get(customId) as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  stack = await startStack();
  admin = new IdentityClient(stack.identity.connectionString, { apiVersion: DEFAULT_PREVIEW_API_VERSION });
});
afterAll(async () => stack?.close());

describe('stable identity mapping (identity server + real OIDC provider + token service)', () => {
  it('maps the same app user to the same identity across logins, persisted through the identity server customId (landscape: ACS has no mapping, "maintain a mapping yourself")', async () => {
    const service = await stack.tokenService();
    const first = await stack.login('bob');
    const a = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${first.accessToken}` } });
    expect(a.status).toBe(200);
    const id = (a.body.user as { communicationUserId: string }).communicationUserId;
    expect(id).toMatch(/^8:acs:/);
    expect(claimsOf(a.body.token as string).sub).toBe(id);
    expect(a.body.identity).toBe('stable');
    expect(a.body.policyRule).toBe('member');

    // A second login (new app token) and the ID token of that login: still the same identity.
    const second = await stack.login('bob');
    expect(second.accessToken).not.toBe(first.accessToken);
    const b = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${second.accessToken}` } });
    const c = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${second.idToken}` } });
    expect((b.body.user as { communicationUserId: string }).communicationUserId).toBe(id);
    expect((c.body.user as { communicationUserId: string }).communicationUserId).toBe(id);

    // The mapping lives at the identity server: a token service with an empty database finds the same identity.
    const fresh = await stack.tokenService();
    const d = await call(`${fresh.url}api/user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.accessToken}` },
    });
    expect(d.status).toBe(200);
    expect(d.body.acsUserIdentity).toBe(id);
    const stored = await admin.getUser(id);
    expect(stored.customId).toBe(customIdFor(stack.oidc.issuer, 'bob'));
    expect(identitiesWithCustomId(customIdFor(stack.oidc.issuer, 'bob'))).toBe(1);
  });

  it('creates exactly one identity when a new user logs in many times at once, across two token-service instances', async () => {
    const one = await stack.tokenService();
    const two = await stack.tokenService();
    const tokens = await Promise.all([stack.login('carol'), stack.login('carol')]);
    const requests = Array.from({ length: 16 }, (_, i) =>
      call(`${(i % 2 === 0 ? one : two).url}api/token`, {
        headers: { authorization: `Bearer ${tokens[i % 2]?.accessToken}` },
      }),
    );
    const results = await Promise.all(requests);
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
    const ids = new Set(results.map((r) => (r.body.user as { communicationUserId: string }).communicationUserId));
    expect(ids.size).toBe(1);
    expect(identitiesWithCustomId(customIdFor(stack.oidc.issuer, 'carol'))).toBe(1);
  });

  it('GET /api/user is 404 before the first token, the identity after; DELETE removes it at the identity server', async () => {
    const service = await stack.tokenService();
    const { accessToken } = await stack.login('dave');
    const auth = { authorization: `Bearer ${accessToken}` };
    const before = await call(`${service.url}api/user`, { headers: auth });
    expect(before.status).toBe(404);
    expect(before.body.error?.code).toBe('ERR_USER_NOT_MAPPED');

    const created = await call(`${service.url}api/user`, { method: 'POST', headers: auth });
    expect(created.status).toBe(200);
    const id = created.body.acsUserIdentity as string;
    expect(created.body.user).toEqual({ communicationUserId: id });
    const again = await call(`${service.url}api/user`, { headers: auth });
    expect(again.body.acsUserIdentity).toBe(id);

    const token = await call(`${service.url}api/token`, { headers: auth });
    expect(token.status).toBe(200);
    expect(await introspect(stack.identity, token.body.token as string)).toMatchObject({ active: true });
    const deleted = await call(`${service.url}api/user`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(204);
    await expect(admin.getUser(id)).rejects.toSatisfy((e: unknown) => isTesseraError(e, 'ERR_IDENTITY_DELETED'));
    expect(await introspect(stack.identity, token.body.token as string)).toMatchObject({
      active: false,
      reason: 'ERR_TOKEN_IDENTITY_DELETED',
    });
    expect((await call(`${service.url}api/user`, { headers: auth })).status).toBe(404);

    // The next token creates a new identity for the same user.
    const next = await call(`${service.url}api/token`, { headers: auth });
    expect(next.status).toBe(200);
    expect((next.body.user as { communicationUserId: string }).communicationUserId).not.toBe(id);
  });

  it('re-creates the identity when an operator deleted it behind the token service’s back', async () => {
    const service = await stack.tokenService();
    const { accessToken } = await stack.login('erin');
    const auth = { authorization: `Bearer ${accessToken}` };
    const first = await call(`${service.url}api/token`, { headers: auth });
    const id = (first.body.user as { communicationUserId: string }).communicationUserId;
    await admin.deleteUser(id);
    const second = await call(`${service.url}api/token/refresh`, { method: 'POST', headers: auth });
    expect(second.status).toBe(200);
    expect((second.body.user as { communicationUserId: string }).communicationUserId).not.toBe(id);
  });

  it('exchanges an external token (RFC 8693 field names) for the same stable identity', async () => {
    const service = await stack.tokenService();
    const { accessToken, idToken } = await stack.login('frank');
    const direct = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${accessToken}` } });
    const exchanged = await call(`${service.url}api/token/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: idToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        scope: 'chat.join',
      }),
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.user).toEqual(direct.body.user);
    expect(exchanged.body.scopes).toEqual(['chat.join']);
    expect(claimsOf(exchanged.body.token as string).acsScope).toBe('chat.join');
    expect(exchanged.body.issued_token_type).toBe('urn:tessera:params:oauth:token-type:user-access-token');
  });
});
