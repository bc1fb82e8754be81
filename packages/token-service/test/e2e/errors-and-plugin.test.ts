import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenServiceError } from '../../src/errors/token-service-error.js';
import { tokenServicePlugin } from '../../src/token-service-plugin.js';
import { EXAMPLE_POLICY, type Stack, call, startStack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

describe('errors: JSON with a stable code and the right status, never a stack trace or a token', () => {
  it('answers every bad request with {"error":{"code","message"}}', async () => {
    const service = await stack.tokenService({ bodyLimit: 1024 });
    const { accessToken } = await stack.login('ivy');
    const auth = { authorization: `Bearer ${accessToken}` };
    const cases: [string, RequestInit, number, string][] = [
      ['api/token', {}, 401, 'ERR_AUTH_MISSING'],
      ['api/token', { headers: { authorization: 'Basic abc' } }, 401, 'ERR_AUTH_UNSUPPORTED_SCHEME'],
      ['api/token', { headers: { authorization: 'Bearer not-a-jwt' } }, 401, 'ERR_TOKEN_MALFORMED'],
      [
        'api/token',
        { headers: { authorization: `Bearer ${accessToken.slice(0, -4)}AAAA` } },
        401,
        'ERR_TOKEN_BAD_SIGNATURE',
      ],
      ['api/token', { headers: { authorization: 'Session nope' } }, 401, 'ERR_SESSION_INVALID'],
      ['api/token?expiresInMinutes=5', { headers: auth }, 400, 'ERR_VALIDATION'],
      [
        'api/token/refresh',
        { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"scopes":' },
        400,
        'ERR_BODY_MALFORMED',
      ],
      [
        'api/token/refresh',
        { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '[1]' },
        400,
        'ERR_BODY_MALFORMED',
      ],
      [
        'api/token/refresh',
        { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hi' },
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'api/token/refresh',
        {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ pad: 'x'.repeat(2000) }),
        },
        413,
        'ERR_BODY_TOO_LARGE',
      ],
      [
        'api/token/exchange',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
        400,
        'ERR_VALIDATION',
      ],
      ['api/nothing', {}, 404, 'ERR_NOT_FOUND_ROUTE'],
      ['demo/', {}, 404, 'ERR_NOT_FOUND_ROUTE'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await call(`${service.url}${path}`, init);
      expect({ path, status: r.status, code: r.body.error?.code }).toEqual({ path, status, code });
      expect(Object.keys(r.body)).toEqual(['error']);
      expect(typeof r.body.error?.message).toBe('string');
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.stringify(r.body)).not.toMatch(/\bat \S+ \(|node_modules|eyJ/);
    }
  });

  it('answers 503 ERR_IDENTITY_SERVER_UNAVAILABLE (not 500) when the identity server is down', async () => {
    const service = await stack.tokenService({
      identity: `endpoint=http://127.0.0.1:9/;accesskey=${Buffer.alloc(32, 1).toString('base64')}`,
    });
    const { accessToken } = await stack.login('jack');
    const r = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(r.status).toBe(503);
    expect(r.body.error?.code).toBe('ERR_IDENTITY_SERVER_UNAVAILABLE');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('never writes an app token, user access token or session secret into its logs', async () => {
    const service = await stack.tokenService({ anonymous: true });
    const { accessToken } = await stack.login('kate');
    const user = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${accessToken}` } });
    const guest = await call(`${service.url}api/token`);
    await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${accessToken}x` } });
    const secrets = [
      accessToken,
      user.body.token as string,
      guest.body.token as string,
      (guest.body.session as { secret: string }).secret,
    ];
    const log = stack.logs.lines.join('\n');
    expect(stack.logs.lines.some((l) => l.includes('"op":"GET /api/token"'))).toBe(true);
    for (const secret of secrets) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(secret.split('.')[2] ?? secret);
    }
  });
});

describe('mounted as a Fastify plugin in the app’s own server', () => {
  it('works under a prefix with a pluggable verify function instead of OIDC', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-ts-plugin-'));
    const app = Fastify();
    app.get('/', async () => ({ app: 'mine' }));
    await app.register(tokenServicePlugin, {
      prefix: '/comms',
      identity: stack.identity.connectionString,
      policy: EXAMPLE_POLICY,
      dataDir,
      sweepIntervalMs: 0,
      verify: async (token) => {
        // e.g. the app's own session store
        if (token === 'session-of-alice')
          return { issuer: 'https://app.example.com', subject: 'alice', claims: { roles: ['staff'] } };
        throw new TokenServiceError('ERR_TOKEN_EXPIRED', 'Your app session has ended.');
      },
    });
    try {
      const ok = await app.inject({ url: '/comms/api/token', headers: { authorization: 'Bearer session-of-alice' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().policyRule).toBe('staff');
      const refused = await app.inject({ url: '/comms/api/token', headers: { authorization: 'Bearer stale' } });
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toEqual({ error: { code: 'ERR_TOKEN_EXPIRED', message: 'Your app session has ended.' } });
      expect((await app.inject({ url: '/' })).json()).toEqual({ app: 'mine' }); // the app's routes are untouched
      expect((await app.inject({ url: '/comms/healthz' })).json()).toEqual({ status: 'ok' });
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('fails at start with ERR_CONFIG_INVALID naming the setting', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [
        { policy: { rules: [{ name: 'x', match: { anonymous: true }, scopes: ['chats'], maxLifetimeMinutes: 60 }] } },
        'policy',
      ],
      [{ anonymous: true, policy: { rules: [EXAMPLE_POLICY.rules[0]] } }, 'anonymous'],
      [{ corsOrigins: ['*'], corsCredentials: true }, 'cors-origin'],
      [{ corsOrigins: ['https://app.example.com/path'] }, 'cors-origin'],
      [{ encryptionKey: 'c2hvcnQ=' }, 'encryption-key'],
      [{ ipRateLimit: 'lots' }, 'ip-rate-limit'],
      [{ issuers: [] }, 'issuer'],
    ];
    for (const [options, target] of bad) {
      await expect(stack.tokenService(options)).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID', target });
    }
  });
});
