import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, call, claimsOf, startStack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

describe('least-privilege policy', () => {
  it('issues the rule’s default scopes and lifetime, and exactly a narrower request', async () => {
    const service = await stack.tokenService();
    const alice = await stack.login('alice'); // staff
    const auth = { authorization: `Bearer ${alice.accessToken}` };
    const all = await call(`${service.url}api/token`, { headers: auth });
    expect(all.status).toBe(200);
    expect(all.body.policyRule).toBe('staff');
    expect(all.body.scopes).toEqual(['chat', 'voip']);
    const claims = claimsOf(all.body.token as string);
    expect(claims.acsScope).toBe('chat,voip');
    expect((claims.exp as number) - (claims.iat as number)).toBe(480 * 60);
    expect(Date.parse(all.body.expiresOn as string)).toBe((claims.exp as number) * 1000);

    const narrow = await call(`${service.url}api/token?scopes=voip&expiresInMinutes=60`, { headers: auth });
    expect(narrow.status).toBe(200);
    expect(claimsOf(narrow.body.token as string).acsScope).toBe('voip');
  });

  it('asks for too much → 403 ERR_POLICY_DENIED naming what was refused, never a silently widened or narrowed token', async () => {
    const service = await stack.tokenService();
    const bob = await stack.login('bob'); // member: chat.join, voip.join, ≤ 120 min
    const auth = { authorization: `Bearer ${bob.accessToken}` };
    const scope = await call(`${service.url}api/token?scopes=chat.join,chat`, { headers: auth });
    expect(scope.status).toBe(403);
    expect(scope.body).toEqual({
      error: {
        code: 'ERR_POLICY_DENIED',
        message: "The policy rule 'member' does not grant 'chat' to this user; it allows chat.join, voip.join.",
        target: 'scopes',
      },
    });
    expect(scope.body.token).toBeUndefined();
    const lifetime = await call(`${service.url}api/token/refresh`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ expiresInMinutes: 480 }),
    });
    expect(lifetime.status).toBe(403);
    expect(lifetime.body.error?.code).toBe('ERR_POLICY_DENIED');
    expect(lifetime.body.error?.message).toContain('at most 120 minutes');
    const unknown = await call(`${service.url}api/token?scopes=admin`, { headers: auth });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.code).toBe('ERR_VALIDATION');
    const ok = await call(`${service.url}api/token`, { headers: auth });
    expect(claimsOf(ok.body.token as string).acsScope).toBe('chat.join,voip.join');
  });

  it('refuses a user no rule matches with 403 ERR_POLICY_NO_MATCH', async () => {
    const service = await stack.tokenService({
      policy: {
        rules: [{ name: 'staff-only', match: { roles: ['staff'] }, scopes: ['chat'], maxLifetimeMinutes: 60 }],
      },
    });
    const bob = await stack.login('bob');
    const r = await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${bob.accessToken}` } });
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe('ERR_POLICY_NO_MATCH');
  });
});

describe('abuse protection', () => {
  it('throttles one user with a token bucket: 429 ERR_RATE_LIMITED with Retry-After', async () => {
    const service = await stack.tokenService({ userRateLimit: '3/60' });
    const bob = await stack.login('bob');
    const auth = { authorization: `Bearer ${bob.accessToken}` };
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(`${service.url}api/token`, { headers: auth });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.body.error?.code).toBe('ERR_RATE_LIMITED');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another user is not affected.
    const alice = await stack.login('alice');
    expect(
      (await call(`${service.url}api/token`, { headers: { authorization: `Bearer ${alice.accessToken}` } })).status,
    ).toBe(200);
  });

  it('throttles one IP address: 429 with Retry-After, /healthz exempt', async () => {
    const service = await stack.tokenService({ ipRateLimit: '5/60' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(`${service.url}api/user`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await call(`${service.url}healthz`)).status).toBe(200);
  });

  it('caps the guest identities one IP creates per hour (landscape: ACS leaves anonymous throttling to you): 429 ERR_ANONYMOUS_CAP', async () => {
    const service = await stack.tokenService({ anonymous: true, anonymousPerIpPerHour: 3 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await call(`${service.url}api/token`));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const ids = new Set(
      results.slice(0, 3).map((r) => (r.body.user as { communicationUserId: string }).communicationUserId),
    );
    expect(ids.size).toBe(3); // ephemeral: a new identity per guest session
    expect(results[3]?.body.error?.code).toBe('ERR_ANONYMOUS_CAP');
    expect(Number(results[3]?.headers.get('retry-after'))).toBeGreaterThan(60);
    // A guest with a session keeps refreshing: the cap is on identities, not on tokens.
    const secret = (results[0]?.body.session as { secret: string } | undefined)?.secret;
    const refreshed = await call(`${service.url}api/token/refresh`, {
      method: 'POST',
      headers: { authorization: `Session ${secret}` },
    });
    expect(refreshed.status).toBe(200);
  });

  it('answers an allowed origin with CORS headers and a disallowed one with none, 403 before any work (landscape: ACS leaves CORS to you)', async () => {
    const service = await stack.tokenService({ anonymous: true, corsOrigins: ['https://app.example.com'] });
    const preflight = await fetch(`${service.url}api/token`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const allowed = await call(`${service.url}api/token`, { headers: { origin: 'https://app.example.com' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');

    for (const method of ['OPTIONS', 'GET']) {
      const denied = await fetch(`${service.url}api/token`, {
        method,
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' },
      });
      expect(denied.status).toBe(403);
      expect([...denied.headers].map(([h]) => h).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      if (method === 'GET')
        expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('ERR_ORIGIN_NOT_ALLOWED');
    }
  });

  it('keeps CORS headers on an allowed origin’s 429 so the browser can read Retry-After', async () => {
    const service = await stack.tokenService({ ipRateLimit: '1/60', corsOrigins: ['https://app.example.com'] });
    await call(`${service.url}api/user`, { headers: { origin: 'https://app.example.com' } });
    const limited = await call(`${service.url}api/user`, { headers: { origin: 'https://app.example.com' } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(limited.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });
});
