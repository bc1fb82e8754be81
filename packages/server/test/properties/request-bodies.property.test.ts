// Issue #16, property tests over HTTP (fast-check, seeded: TESSERA_TEST_SEED replays a failure, the seed is in its
// message). Every request body of the identity API — create identity, issue token, revoke, exchange, introspect, the
// admin key routes — and any Authorization header, sent correctly signed (so the body reaches validation) or not:
// the answer is a 2xx or a 4xx whose innererror.code is one of the stable codes, never a 5xx.
//
// The real server (startServer, SQLite) rather than buildApp().inject(): startServer does not expose its Fastify
// instance, and the wiring between the two is part of what is under test.
import { ERROR_CODES } from '@tessera/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyParameters } from '../../../../test/support/property-seed.js';
import {
  acsRequest,
  createIdentity,
  identityPath,
  type RawResponse,
  rawRequest,
  startTestServer,
  type Target,
  type TestServer,
} from '../e2e/helpers.js';

let ts: TestServer;
let target: Target;
let id = '';

beforeAll(async () => {
  ts = await startTestServer({
    rateLimit: 'off',
    // A trusted issuer makes the exchange route validate its body; its JWKS is never fetched (no generated token
    // names this issuer).
    trustedIssuers: [
      { issuer: 'https://issuer.invalid/tenant', jwksUri: 'https://issuer.invalid/jwks', exchange: true },
    ],
  });
  target = { url: ts.url, accessKey: ts.primaryKey };
  id = (await createIdentity(target)).identity.id;
});
afterAll(async () => ts.close());

/** A 2xx, or a 4xx with an ACS error body whose innererror.code is a stable code. Never a 5xx. */
function expectSane(res: RawResponse, what: string): void {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status < 400) return;
  const error = (res.json as { error?: { code?: unknown; innererror?: { code?: unknown } } } | undefined)?.error;
  expect(typeof error?.code, `${what}: ${res.text.slice(0, 300)}`).toBe('string');
  expect(Object.keys(ERROR_CODES), `${what}: ${res.text.slice(0, 300)}`).toContain(error?.innererror?.code);
  expect(res.text).not.toMatch(/\n\s+at /); // no stack
}

const ROUTES = [
  {
    name: 'create identity',
    path: () => '/identities?api-version=2023-10-01',
    fields: ['createTokenWithScopes', 'expiresInMinutes', 'customId'],
  },
  { name: 'issue token', path: () => identityPath(id, '/:issueAccessToken'), fields: ['scopes', 'expiresInMinutes'] },
  { name: 'revoke', path: () => identityPath(id, '/:revokeAccessTokens'), fields: [] },
  {
    name: 'exchange',
    path: () => '/teamsUser/:exchangeAccessToken?api-version=2023-10-01',
    fields: ['token', 'appId', 'userId'],
  },
  { name: 'introspect', path: () => '/tokens/:introspect', fields: ['token'] },
  { name: 'regenerate key', path: () => '/admin/keys/:regenerate', fields: ['key'] },
  { name: 'rotate signing key', path: () => '/admin/signing-keys/:rotate', fields: ['activateAfterSeconds'] },
] as const;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Values a field may hold: anything JSON, near-valid ones, huge ones, and JWT-shaped strings. */
const valueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(60, 1440, 59, 1441, -1, 0, 1e308, -0, 2 ** 53, 'chat', 'voip', 'primary.1', ''),
  fc.array(fc.constantFrom('chat', 'voip', 'chat.join', 'voip.join', 'CHAT', 'bogus', ''), { maxLength: 5 }),
  fc.integer({ min: 1, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc
    .tuple(fc.jsonValue(), fc.jsonValue(), fc.stringMatching(/^[A-Za-z0-9_-]{0,90}$/))
    .map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${s}`),
  fc.uuid(),
);
const bodyArb = fc.oneof(
  fc
    .constantFrom(...ROUTES.map((r) => r.fields))
    .chain((fields) =>
      fc
        .dictionary(fc.constantFrom(...fields, 'extra', '__proto__', 'constructor'), valueArb, { maxKeys: 4 })
        .map((o) => JSON.stringify(o)),
    ),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', '{"scopes":[', 'null', '[]', '"chat"', '{"scopes":["chat"]}garbage', '\u0000', '{}'),
);
const contentTypeArb = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/merge-patch+json',
  undefined,
);

describe('identity API bodies (property, over HTTP)', () => {
  it('any body on any body-taking route, correctly signed: 2xx or a 4xx with a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), bodyArb, contentTypeArb, async (route, body, contentType) => {
        // Regenerating the key this test signs with would lock it out; regenerating the verifier key is harmless.
        const parsed = (() => {
          try {
            return JSON.parse(body) as unknown;
          } catch {
            return undefined;
          }
        })();
        const key = (parsed as { key?: unknown } | null | undefined)?.key;
        fc.pre(!(route.name === 'regenerate key' && (key === 'primary' || key === 'secondary')));
        const headers: Record<string, string> = {};
        if (contentType !== undefined) headers['content-type'] = contentType;
        const res = await acsRequest(target, 'POST', route.path(), {
          body,
          headers,
          ...(contentType === undefined ? { omit: ['content-type'] } : {}),
        });
        expectSane(res, `${route.name} ${JSON.stringify(body).slice(0, 120)} (${contentType})`);
      }),
      propertyParameters(400),
    );
  }, 120_000);

  // With a trusted issuer configured, a Bearer header is a token to check: its failures are ERR_TOKEN_*.
  it('any Authorization header (and x-ms-date, x-ms-content-sha256): a 401 with an ERR_AUTH_* / ERR_TOKEN_* code', async () => {
    const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 120 });
    const authArb = fc.oneof(
      printable,
      fc
        .tuple(
          fc.constantFrom('HMAC-SHA256 ', 'hmac-sha256 ', 'Bearer ', ''),
          fc.array(
            fc.oneof(
              fc.constant('SignedHeaders=x-ms-date;host;x-ms-content-sha256'),
              fc
                .uint8Array({ minLength: 30, maxLength: 34 })
                .map((b) => `Signature=${Buffer.from(b).toString('base64')}`),
              printable.map((s) => `Signature=${s}`),
              printable.map((s) => `SignedHeaders=${s}`),
            ),
            { maxLength: 4 },
          ),
        )
        .map(([scheme, params]) => `${scheme}${params.join('&')}`),
    );
    await fc.assert(
      fc.asyncProperty(authArb, fc.option(printable), fc.option(printable), async (authorization, date, hash) => {
        const headers: Record<string, string> = { authorization: authorization.trim() === '' ? 'x' : authorization };
        if (date !== null) headers['x-ms-date'] = date;
        if (hash !== null) headers['x-ms-content-sha256'] = hash;
        const res = await rawRequest({
          baseUrl: ts.url,
          method: 'POST',
          path: '/identities?api-version=2023-10-01',
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{}',
        });
        expectSane(res, `authorization ${JSON.stringify(authorization)}`);
        expect(res.status).toBe(401);
        expect(String((res.json as { error: { innererror: { code: string } } }).error.innererror.code)).toMatch(
          /^ERR_(AUTH|TOKEN)_/,
        );
      }),
      propertyParameters(300),
    );
  }, 120_000);

  it('any token sent to introspection: 200 with active false and a stable ERR_TOKEN_* reason (the JWT decoder on the wire)', async () => {
    const tokenArb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .tuple(
          fc.record({ alg: fc.jsonValue(), kid: fc.jsonValue(), crit: fc.jsonValue() }, { requiredKeys: [] }),
          fc.jsonValue(),
          fc.stringMatching(/^[A-Za-z0-9_-]{0,90}$/),
        )
        .map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${s}`),
    );
    await fc.assert(
      fc.asyncProperty(tokenArb, async (token) => {
        const res = await acsRequest(target, 'POST', '/tokens/:introspect', { json: { token } });
        expectSane(res, `introspect ${JSON.stringify(token).slice(0, 120)}`);
        if (res.status !== 200) return; // e.g. an empty token: 400 ERR_VALIDATION
        const result = res.json as { active: boolean; reason?: string };
        expect(result.active).toBe(false);
        expect(Object.keys(ERROR_CODES)).toContain(result.reason);
        expect(result.reason).toMatch(/^ERR_TOKEN_/);
      }),
      propertyParameters(300),
    );
  }, 120_000);
});
