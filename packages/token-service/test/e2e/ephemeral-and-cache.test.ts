import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PREVIEW_API_VERSION, IdentityClient } from '@tessera/client';
import { isTesseraError } from '@tessera/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, call, introspect, startStack } from '../helpers/stack.js';

let stack: Stack;
let admin: IdentityClient;

beforeAll(async () => {
  stack = await startStack();
  admin = new IdentityClient(stack.identity.connectionString, { apiVersion: DEFAULT_PREVIEW_API_VERSION });
});
afterAll(async () => stack?.close());

const idOf = (body: Record<string, unknown>) => (body.user as { communicationUserId: string }).communicationUserId;

describe('ephemeral identities', () => {
  it('gives each guest session its own identity, refreshable with the session secret, deleted by the sweeper after its tokens expire', async () => {
    let now = Date.now();
    const service = await stack.tokenService({ anonymous: true, clock: () => now });
    const first = await call(`${service.url}api/token`);
    expect(first.status).toBe(200);
    expect(first.body.identity).toBe('ephemeral');
    expect(first.body.policyRule).toBe('guest');
    expect(first.body.scopes).toEqual(['chat.join.limited']);
    const session = first.body.session as { secret: string; refreshUntil: string };
    expect(session.secret).toMatch(/^[\w-]{43}$/);
    const id = idOf(first.body);

    const other = await call(`${service.url}api/token`);
    expect(idOf(other.body)).not.toBe(id);

    const auth = { authorization: `Session ${session.secret}` };
    const refreshed = await call(`${service.url}api/token/refresh`, { method: 'POST', headers: auth });
    expect(refreshed.status).toBe(200);
    expect(idOf(refreshed.body)).toBe(id);
    expect(refreshed.body.token).not.toBe(first.body.token);
    expect(refreshed.body.session).toBeUndefined(); // the secret is shown once
    expect((await call(`${service.url}api/user`, { headers: auth })).body.acsUserIdentity).toBe(id);
    const tooMuch = await call(`${service.url}api/token/refresh`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['chat'] }),
    });
    expect(tooMuch.status).toBe(403);

    // Nothing is due while tokens are valid.
    expect(await service.sweep(now)).toMatchObject({ deleted: 0, failed: 0 });
    expect((await admin.getUser(id)).id).toBe(id);

    // An hour and a minute later every token of both sessions has expired: the sweeper deletes both identities.
    now += 61 * 60_000;
    expect(await service.sweep(now)).toMatchObject({ deleted: 2, failed: 0 });
    await expect(admin.getUser(id)).rejects.toSatisfy((e: unknown) => isTesseraError(e, 'ERR_IDENTITY_DELETED'));
    await expect(admin.getUser(idOf(other.body))).rejects.toSatisfy((e: unknown) =>
      isTesseraError(e, 'ERR_IDENTITY_DELETED'),
    );
    const late = await call(`${service.url}api/token/refresh`, { method: 'POST', headers: auth });
    expect(late.status).toBe(401);
    expect(late.body.error?.code).toBe('ERR_SESSION_INVALID');
    expect(await service.sweep(now)).toMatchObject({ deleted: 0, failed: 0 }); // idempotent
  });

  it('ends a session on DELETE /api/user: identity deleted and its tokens revoked at once', async () => {
    const service = await stack.tokenService({ anonymous: true });
    const started = await call(`${service.url}api/user`, { method: 'POST' });
    expect(started.status).toBe(201);
    const secret = (started.body.session as { secret: string }).secret;
    const auth = { authorization: `Session ${secret}` };
    const token = await call(`${service.url}api/token`, { headers: auth });
    expect(idOf(token.body)).toBe(started.body.acsUserIdentity);
    expect((await call(`${service.url}api/user`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(await introspect(stack.identity, token.body.token as string)).toMatchObject({
      active: false,
      reason: 'ERR_TOKEN_IDENTITY_DELETED',
    });
    expect((await call(`${service.url}api/token`, { headers: auth })).body.error?.code).toBe('ERR_SESSION_INVALID');
  });

  it('gives users of an ephemeral rule a new identity per session', async () => {
    const service = await stack.tokenService({
      policy: {
        rules: [
          {
            name: 'kiosk',
            match: { authenticated: true },
            scopes: ['voip.join'],
            maxLifetimeMinutes: 60,
            identity: 'ephemeral',
          },
        ],
      },
    });
    const { accessToken } = await stack.login('gina');
    const auth = { authorization: `Bearer ${accessToken}` };
    const a = await call(`${service.url}api/token`, { headers: auth });
    const b = await call(`${service.url}api/token`, { headers: auth });
    expect(a.body.identity).toBe('ephemeral');
    expect(idOf(a.body)).not.toBe(idOf(b.body));
    const refresh = await call(`${service.url}api/token/refresh`, {
      method: 'POST',
      headers: { authorization: `Session ${(a.body.session as { secret: string }).secret}` },
    });
    expect(idOf(refresh.body)).toBe(idOf(a.body));
  });
});

describe('token cache in the backing store', () => {
  it('stores cached tokens encrypted (AES-256-GCM): the database never holds a token in the clear', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const service = await stack.tokenService({ encryptionKey: key });
    const { accessToken } = await stack.login('hank');
    const auth = { authorization: `Bearer ${accessToken}` };
    const first = await call(`${service.url}api/token`, { headers: auth });
    const second = await call(`${service.url}api/token`, { headers: auth });
    expect(second.body.token).toBe(first.body.token); // served from the cache
    const refreshed = await call(`${service.url}api/token/refresh`, { method: 'POST', headers: auth });
    expect(refreshed.body.token).not.toBe(first.body.token); // refresh always mints

    const token = first.body.token as string;
    const signature = token.split('.')[2] ?? '';
    const db = new Database(join(service.dataDir, 'token-service.db'), { readonly: true });
    const rows = db.prepare('SELECT sealed FROM token_cache').all() as { sealed: string }[];
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.sealed).toMatch(/^v1\./);
    const files = ['token-service.db', 'token-service.db-wal']
      .map((f) => {
        try {
          return readFileSync(join(service.dataDir, f)).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    expect(files).not.toContain(signature);
    expect(files).not.toContain(token.split('.')[1] ?? '');
  });
});
