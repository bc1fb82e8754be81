// Issue #14, verbose mode: at --log-level debug the server writes, per request, why it was let in (principal, key
// version, data action, rate limit) or refused (code, status, missing action, Retry-After) — and never a key, a
// signature, a token or a URL. At info none of these lines exist.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acsRequest, createIdentity, identityPath, startTestServer, type Target, type TestServer } from './helpers.js';

let text = '';
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    text += chunk.toString('utf8');
    done();
  },
});
const lines = () =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let server: TestServer;
let target: Target;
const secrets: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ logLevel: 'debug', logDestination: sink, rateLimit: 'revoke=1/300' });
  target = { url: server.url, accessKey: server.primaryKey };
  secrets.push(server.primaryKey, server.verifierKey);
});
afterAll(async () => {
  await server?.close();
});

describe('--log-level debug', () => {
  it('an authorized request: principal, key version, data action and rate limit', async () => {
    const created = await createIdentity(target, { createTokenWithScopes: ['chat'] }, '2025-06-30');
    secrets.push(created.accessToken?.token ?? '');
    const line = lines().find((l) => l.msg === 'request authorized' && l.op === 'identity.create');
    expect(line).toMatchObject({
      level: 20,
      principal: 'key:primary',
      keyVersion: 1,
      action: 'identities/create',
      rateLimit: 'create allowed',
    });
  });

  it('refusals: a wrong key (401 and its code), the verifier key (403 and the missing action), a rate limit (429)', async () => {
    const wrong = Buffer.alloc(64, 7).toString('base64');
    const bad = await acsRequest({ url: server.url, accessKey: wrong }, 'GET', '/admin/keys', { requestId: 'dbg-401' });
    expect(bad.status).toBe(401);
    secrets.push(bad.signed.signature);
    const verifier = { url: server.url, accessKey: server.verifierKey };
    const denied = await acsRequest(verifier, 'GET', '/admin/keys', { requestId: 'dbg-403' });
    expect(denied.status).toBe(403);
    const { identity } = await createIdentity(target);
    await acsRequest(target, 'POST', identityPath(identity.id, '/:revokeAccessTokens'));
    const limited = await acsRequest(target, 'POST', identityPath(identity.id, '/:revokeAccessTokens'), {
      requestId: 'dbg-429',
    });
    expect(limited.status).toBe(429);
    const byId = (id: string) => lines().find((l) => l.requestId === id && l.msg === 'request refused');
    expect(byId('dbg-401')).toMatchObject({
      status: 401,
      code: 'ERR_AUTH_SIGNATURE_MISMATCH',
      principal: 'unauthenticated',
    });
    expect(byId('dbg-403')).toMatchObject({
      status: 403,
      code: 'ERR_FORBIDDEN',
      principal: 'key:verifier',
      action: 'keys/read',
    });
    expect(byId('dbg-429')).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED', principal: 'key:primary' });
    expect(byId('dbg-429')?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('no debug line carries a key, signature, token or URL', () => {
    expect(lines().filter((l) => l.level === 20).length).toBeGreaterThan(4);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/api-version=|\/identities\//);
  });

  it('at info, none of these lines are written', async () => {
    let info = '';
    const quiet = await startTestServer({
      logLevel: 'info',
      logDestination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          info += chunk.toString('utf8');
          done();
        },
      }),
    });
    try {
      await createIdentity({ url: quiet.url, accessKey: quiet.primaryKey });
      await acsRequest({ url: quiet.url, accessKey: quiet.verifierKey }, 'GET', '/admin/keys');
    } finally {
      await quiet.close();
    }
    expect(info).toContain('"msg":"request"');
    expect(info).not.toMatch(/request authorized|request refused/);
  });
});
