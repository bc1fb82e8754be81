// Requirement 2: every error answers with the real service's status, code, message and target (docs/spec/wire-protocol.md §1.5),
// request bodies are read as the SDKs send them, and no input — valid, odd or garbage — produces a 500 or a stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertySeed, replaySeed } from '../../../../test/support/property-seed.js';
import {
  ALL_API_VERSIONS,
  acsRequest,
  createIdentity,
  decodeToken,
  errorOf,
  FOREIGN_ID,
  hasStackTrace,
  identityPath,
  issueToken,
  PREVIEW,
  prng,
  type RawResponse,
  rawRequest,
  signRequest,
  startTestServer,
  type Target,
  type TestServer,
} from './helpers.js';

let ts: TestServer;
let target: Target;
let resourceId: string;

beforeAll(async () => {
  ts = await startTestServer();
  target = { url: ts.url, accessKey: ts.primaryKey };
  resourceId = ts.server.resourceId;
});
afterAll(async () => ts.close());

const SUPPORTED = ALL_API_VERSIONS.join(', ');

/** Asserts an ACS error response, and what every error must be: JSON, no stack, the versions header. */
function expectError(
  res: RawResponse,
  expected: { status: number; code: string; message?: string | RegExp; target?: string | null; inner?: string },
): void {
  expect(res.status, res.text).toBe(expected.status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['api-supported-versions']).toBe(SUPPORTED);
  expect(hasStackTrace(res.text)).toBe(false);
  const error = errorOf(res);
  expect(error.code).toBe(expected.code);
  if (typeof expected.message === 'string') expect(error.message).toBe(expected.message);
  else if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
  if (expected.target === null) expect(error.target).toBeUndefined();
  else if (expected.target !== undefined) expect(error.target).toBe(expected.target);
  if (expected.inner !== undefined) expect(error.innererror?.code).toBe(expected.inner);
}

async function newId(): Promise<string> {
  return (await createIdentity(target)).identity.id;
}

const issuePath = (id: string, v = '2023-10-01') => identityPath(id, '/:issueAccessToken', v);

describe('validation errors as the real service answers them', () => {
  it.each([59, 1441, 0, -1, 100000])('issue token with expiresInMinutes %i → 400 ValidationError', async (minutes) => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()), {
      json: { scopes: ['chat'], expiresInMinutes: minutes },
    });
    expectError(res, {
      status: 400,
      code: 'ValidationError',
      message: `ExpiresInMinutes value ${minutes} is invalid. Value must be within the [60, 1440] interval.`,
      target: 'ExpiresInMinutes',
      inner: 'ERR_VALIDATION',
    });
  });

  it.each([59, 1441])('create user and token with expiresInMinutes %i → 400 ValidationError', async (minutes) => {
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
      json: { createTokenWithScopes: ['chat'], expiresInMinutes: minutes },
    });
    expectError(res, {
      status: 400,
      code: 'ValidationError',
      message: `ExpiresInMinutes value ${minutes} is invalid. Value must be within the [60, 1440] interval.`,
      target: 'ExpiresInMinutes',
    });
  });

  it.each([
    ['60.5', 60.5],
    ['"60"', '60'],
    ['true', true],
  ])('expiresInMinutes %s (not an integer) → 400 ValidationError on ExpiresInMinutes', async (_label, value) => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()), {
      json: { scopes: ['chat'], expiresInMinutes: value },
    });
    expectError(res, { status: 400, code: 'ValidationError', target: 'ExpiresInMinutes' });
  });

  it.each([
    ['scopes null', { scopes: null }],
    ['scopes missing', {}],
  ])('issue token with %s → "Scopes: The Scopes field is required." target Scopes', async (_label, body) => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()), { json: body });
    expectError(res, {
      status: 400,
      code: 'ValidationError',
      message: 'Scopes: The Scopes field is required.',
      target: 'Scopes',
    });
  });

  it('issue token with an empty body → the Scopes-required error, not a 500', async () => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()));
    expectError(res, { status: 400, code: 'ValidationError', target: 'Scopes' });
  });

  it('issue token with scopes [] → "Invalid scopes - Scopes field is required." target scopes', async () => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()), { json: { scopes: [] } });
    expectError(res, {
      status: 400,
      code: 'ValidationError',
      message: 'Invalid scopes - Scopes field is required.',
      target: 'scopes',
    });
  });

  it.each([
    ['unknown scope', ['email']],
    ['scope with different case', ['Chat']],
    ['one unknown among valid ones', ['chat', 'voip', 'video']],
    ['a number', [1]],
    ['a nested array', [['chat']]],
    ['a string instead of an array', 'chat'],
    ['an object instead of an array', { chat: true }],
  ])('issue token with %s → 400 ValidationError target scopes', async (_label, scopes) => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()), { json: { scopes } });
    expectError(res, { status: 400, code: 'ValidationError', target: 'scopes' });
  });

  it('create with an unknown createTokenWithScopes → 400 ValidationError target createTokenWithScopes, nothing created', async () => {
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
      json: { createTokenWithScopes: ['email'] },
    });
    expectError(res, { status: 400, code: 'ValidationError', target: 'createTokenWithScopes' });
  });

  it.each([
    ['chat.join', '2023-08-01'],
    ['chat.join.limited', '2023-08-01'],
    ['voip.join', '2022-10-01'],
    ['chat.join', '2021-03-07'],
  ])('scope %s on api-version %s (before 2023-10-01) → 400 on issue and on create', async (scope, version) => {
    const issue = await acsRequest(target, 'POST', issuePath(await newId(), version), { json: { scopes: [scope] } });
    expectError(issue, { status: 400, code: 'ValidationError', target: 'scopes', message: new RegExp(scope) });
    const create = await acsRequest(target, 'POST', `/identities?api-version=${version}`, {
      json: { createTokenWithScopes: [scope] },
    });
    expectError(create, { status: 400, code: 'ValidationError', target: 'createTokenWithScopes' });
  });
});

describe('identity errors', () => {
  const NOT_OWNED = {
    status: 401,
    code: 'IdentityNotOwned',
    message: "Provided identity doesn't belong to the resource.",
  };

  it('issue, revoke and delete for another resource’s identity → 401 IdentityNotOwned (no target), as recorded', async () => {
    expectError(await acsRequest(target, 'POST', issuePath(FOREIGN_ID), { json: { scopes: ['chat'] } }), {
      ...NOT_OWNED,
      target: null,
    });
    expectError(await acsRequest(target, 'POST', identityPath(FOREIGN_ID, '/:revokeAccessTokens')), {
      ...NOT_OWNED,
      target: null,
    });
    expectError(await acsRequest(target, 'DELETE', identityPath(FOREIGN_ID)), { ...NOT_OWNED, target: null });
  });

  it('issue, revoke and delete for an unknown identity of this resource → 404 IdentityNotFound', async () => {
    const unknown = `8:acs:${resourceId}_0190b6c4-aaaa-7000-8000-000000000000`;
    for (const res of [
      await acsRequest(target, 'POST', issuePath(unknown), { json: { scopes: ['chat'] } }),
      await acsRequest(target, 'POST', identityPath(unknown, '/:revokeAccessTokens')),
      await acsRequest(target, 'DELETE', identityPath(unknown)),
    ]) {
      expectError(res, { status: 404, code: 'IdentityNotFound', inner: 'ERR_IDENTITY_NOT_FOUND' });
    }
  });

  it('issue, revoke and delete for a deleted identity → 404 IdentityDeleted', async () => {
    const id = await newId();
    const del = await acsRequest(target, 'DELETE', identityPath(id));
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    for (const res of [
      await acsRequest(target, 'POST', issuePath(id), { json: { scopes: ['chat'] } }),
      await acsRequest(target, 'POST', identityPath(id, '/:revokeAccessTokens')),
      await acsRequest(target, 'DELETE', identityPath(id)),
    ]) {
      expectError(res, { status: 404, code: 'IdentityDeleted', inner: 'ERR_IDENTITY_DELETED' });
    }
  });

  it('the resource id in an identity is matched case-insensitively', async () => {
    const id = await newId();
    const upper = `8:acs:${resourceId.toUpperCase()}_${id.split('_')[1]?.toUpperCase()}`;
    const token = await issueToken(target, upper, ['chat']);
    expect(decodeToken(token.token).payload.sub).toBe(id);
  });

  it.each([
    'abc',
    '8:acs:',
    '8:acs:not-a-uuid',
    '8:acs:not-a-uuid_also-not',
    'RESOURCE_not-a-uuid',
    '4:+14255550123',
    '8:orgid:0190b6c4-0000-7000-8000-000000000000',
    '8:acs:RESOURCE_0190b6c4-0000-7000-8000-000000000000_extra',
    ' ',
    '💥',
  ])('malformed identity %j → 400 ValidationError on issue, revoke and delete', async (raw) => {
    const id = raw.replace('RESOURCE', resourceId);
    for (const res of [
      await acsRequest(target, 'POST', issuePath(id), { json: { scopes: ['chat'] } }),
      await acsRequest(target, 'POST', identityPath(id, '/:revokeAccessTokens')),
      await acsRequest(target, 'DELETE', identityPath(id)),
    ]) {
      expectError(res, { status: 400, code: 'ValidationError' });
    }
  });
});

describe('api-version', () => {
  it('an unsupported api-version → 400 UnsupportedApiVersion with the service’s message', async () => {
    const res = await acsRequest(target, 'POST', '/identities?api-version=2020-01-01');
    expectError(res, {
      status: 400,
      code: 'UnsupportedApiVersion',
      message:
        "The HTTP resource that matches the request URI '/identities?api-version=2020-01-01' does not support the API version '2020-01-01'.",
    });
  });

  it.each([
    ['missing', '/identities'],
    ['empty', '/identities?api-version='],
    ['given twice', '/identities?api-version=2023-10-01&api-version=2023-10-01'],
  ])('api-version %s → 400 UnsupportedApiVersion naming api-version', async (_label, path) => {
    const res = await acsRequest(target, 'POST', path);
    expectError(res, { status: 400, code: 'UnsupportedApiVersion', message: /api-version/i });
  });

  it.each(ALL_API_VERSIONS.filter((v) => v !== PREVIEW))(
    'GET /identities/{id} on %s (no GET before the preview) → 400 UnsupportedApiVersion',
    async (version) => {
      const id = await newId();
      const res = await acsRequest(target, 'GET', identityPath(id, '', version));
      expectError(res, {
        status: 400,
        code: 'UnsupportedApiVersion',
        message: new RegExp(`does not support the API version '${version}'`),
      });
    },
  );
});

describe('headers every response carries', () => {
  it('api-supported-versions on success, error, no-route, public and health responses', async () => {
    const id = await newId();
    const responses = [
      await acsRequest(target, 'POST', '/identities?api-version=2023-10-01'),
      await acsRequest(target, 'POST', issuePath(id), { json: { scopes: ['chat'] } }),
      await acsRequest(target, 'POST', identityPath(id, '/:revokeAccessTokens')),
      await acsRequest(target, 'POST', issuePath(id), { json: { scopes: [] } }),
      await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', { accessKey: ts.verifierKey }),
      await acsRequest(target, 'POST', '/identities?api-version=1999-01-01'),
      await rawRequest({ baseUrl: ts.url, method: 'POST', path: '/identities?api-version=2023-10-01' }),
      await rawRequest({ baseUrl: ts.url, method: 'GET', path: '/no/such/route' }),
      await rawRequest({ baseUrl: ts.url, method: 'GET', path: '/.well-known/jwks.json' }),
      await rawRequest({ baseUrl: ts.url, method: 'GET', path: '/healthz' }),
      await acsRequest(target, 'DELETE', identityPath(id)),
    ];
    expect(responses.map((r) => r.status)).toEqual([201, 200, 204, 400, 403, 400, 401, 404, 200, 200, 204]);
    for (const r of responses) expect(r.headers['api-supported-versions']).toBe(SUPPORTED);
  });

  it('x-ms-client-request-id is echoed on success and on error', async () => {
    const ok = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
      requestId: '6f1f6a8e-3b1a-4f55-9c55-4d2a1c7a0001',
    });
    expect(ok.status).toBe(201);
    expect(ok.headers['x-ms-client-request-id']).toBe('6f1f6a8e-3b1a-4f55-9c55-4d2a1c7a0001');
    const bad = await acsRequest(target, 'POST', issuePath(FOREIGN_ID), {
      json: { scopes: ['chat'] },
      requestId: 'my-request.42',
    });
    expect(bad.status).toBe(401);
    expect(bad.headers['x-ms-client-request-id']).toBe('my-request.42');
  });

  it('without x-ms-client-request-id the server still answers one (a fresh uuid)', async () => {
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01');
    expect(res.headers['x-ms-client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request bodies', () => {
  it.each([
    ['no body and no content-type', undefined, {}],
    ['an empty body with content-type application/json (createUser)', '', { 'content-type': 'application/json' }],
    ['{}', '{}', {}],
    ['explicit nulls (Python create_user_and_token)', '{"createTokenWithScopes":null,"expiresInMinutes":null}', {}],
    ['JSON null', 'null', {}],
    ['whitespace around {}', '  {} \n', {}],
    ['unknown extra fields', '{"foo":1,"bar":[1,2]}', {}],
  ])('create with %s → 201 with the identity only', async (_label, body, headers) => {
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
      ...(body === undefined ? {} : { body }),
      headers,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const json = res.json as { identity: { id: string }; accessToken?: unknown };
    expect(Object.keys(json)).toEqual(['identity']);
    expect(json.identity.id.startsWith(`8:acs:${resourceId}_`)).toBe(true);
  });

  it('issue with expiresInMinutes null gets the default 24 h token', async () => {
    const res = await acsRequest(target, 'POST', issuePath(await newId()), {
      json: { scopes: ['chat'], expiresInMinutes: null },
    });
    expect(res.status).toBe(200);
    const { payload } = decodeToken((res.json as { token: string }).token);
    expect((payload.exp as number) - (payload.iat as number)).toBe(1440 * 60);
  });

  it('an oversized body (Content-Length) → 413 with a JSON error body', async () => {
    const body = JSON.stringify({ createTokenWithScopes: ['chat'], pad: 'x'.repeat(70_000) });
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', { body });
    expectError(res, { status: 413, code: 'RequestEntityTooLarge', inner: 'ERR_BODY_TOO_LARGE' });
  });

  it('an oversized chunked body → 413 with a JSON error body', async () => {
    const body = JSON.stringify({ scopes: ['chat'], pad: 'x'.repeat(100_000) });
    const signed = signRequest({
      method: 'POST',
      pathAndQuery: '/identities?api-version=2023-10-01',
      host: new URL(ts.url).host,
      body,
      accessKey: ts.primaryKey,
    });
    const res = await rawRequest({
      baseUrl: ts.url,
      method: 'POST',
      path: '/identities?api-version=2023-10-01',
      chunked: true,
      body,
      headers: {
        'content-type': 'application/json',
        'x-ms-date': signed.date,
        'x-ms-content-sha256': signed.contentHash,
        authorization: signed.authorization,
      },
    });
    expectError(res, { status: 413, code: 'RequestEntityTooLarge' });
  });

  it.each([
    ['truncated JSON', '{"createTokenWithScopes":'],
    ['a trailing comma', '{"createTokenWithScopes":["chat"],}'],
    ['single quotes', "{'createTokenWithScopes':['chat']}"],
    ['bare words', 'createTokenWithScopes=chat'],
  ])('malformed JSON (%s) → 400 InvalidRequestBody', async (_label, body) => {
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', { body });
    expectError(res, { status: 400, code: 'InvalidRequestBody', inner: 'ERR_BODY_MALFORMED' });
  });

  it('a body of invalid UTF-8 bytes → 400 InvalidRequestBody', async () => {
    const body = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x7b]);
    const res = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', { body });
    expectError(res, { status: 400, code: 'InvalidRequestBody' });
  });

  it.each([
    ['an array', '[]'],
    ['an array of scopes', '["chat"]'],
    ['a string', '"chat"'],
    ['a number', '42'],
    ['a boolean', 'true'],
  ])('non-object JSON (%s) → 400 InvalidRequestBody on create and on issue', async (_label, body) => {
    expectError(await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', { body }), {
      status: 400,
      code: 'InvalidRequestBody',
    });
    expectError(await acsRequest(target, 'POST', issuePath(await newId()), { body }), {
      status: 400,
      code: 'InvalidRequestBody',
    });
  });
});

describe('never a 500, never a stack trace (fuzz)', () => {
  const random = prng(propertySeed());
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const junk = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(random() * 0x7f));
    return s;
  };
  const values: readonly unknown[] = [
    null,
    true,
    0,
    -1,
    60,
    1e308,
    Number.MAX_SAFE_INTEGER,
    '',
    'chat',
    '💥'.repeat(50),
    [],
    ['chat'],
    ['chat', null],
    [{}],
    {},
    { __proto__: { polluted: true } },
    'x'.repeat(300),
  ];
  const fields = [
    'scopes',
    'createTokenWithScopes',
    'expiresInMinutes',
    'customId',
    'token',
    'key',
    '__proto__',
    'constructor',
  ];

  function randomBody(): string {
    switch (Math.floor(random() * 5)) {
      case 0:
        return junk(Math.floor(random() * 200));
      case 1:
        return JSON.stringify(pick(values));
      case 2:
        return `${'['.repeat(5000)}${']'.repeat(5000)}`;
      default: {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < 3; i++) o[pick(fields)] = pick(values);
        return JSON.stringify(o);
      }
    }
  }

  function expectSane(res: RawResponse, label: string): void {
    expect(res.status, `${label} (${replaySeed()}) → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
    expect(hasStackTrace(res.text), `${label}: ${res.text.slice(0, 300)}`).toBe(false);
    expect(res.text).not.toContain(ts.primaryKey);
  }

  it('random signed bodies to every ACS and Tessera route', async () => {
    const id = await newId();
    const routes: Array<[string, string]> = [
      ['POST', '/identities?api-version=2023-10-01'],
      ['POST', `/identities?api-version=${PREVIEW}`],
      ['POST', issuePath(id)],
      ['POST', issuePath(id, '2021-03-07')],
      ['POST', identityPath(id, '/:revokeAccessTokens')],
      ['POST', '/tokens/:introspect'],
      ['POST', '/admin/keys/:regenerate'],
      ['GET', identityPath(id, '', PREVIEW)],
      ['POST', '/teamsUser/:exchangeAccessToken?api-version=2023-10-01'],
      ['PUT', '/admin/roles/fuzz-role'],
      ['POST', '/admin/roleAssignments'],
    ];
    for (let i = 0; i < 60; i++) {
      const [method, path] = pick(routes);
      const body = randomBody();
      if (path === '/admin/keys/:regenerate' && /"key":"(primary|secondary|verifier)"/.test(body)) continue;
      const res = await acsRequest(target, method, path, { body });
      expectSane(res, `${method} ${path} ${body.slice(0, 80)}`);
    }
  });

  it('random and hostile paths, signed and unsigned', async () => {
    const fixed = [
      '/identities/%E0%A4%A/:issueAccessToken?api-version=2023-10-01',
      '/identities/%/:revokeAccessTokens?api-version=2023-10-01',
      '/identities/%00/:issueAccessToken?api-version=2023-10-01',
      `/identities/${'a'.repeat(5000)}/:issueAccessToken?api-version=2023-10-01`,
      '/identities/../admin/keys?api-version=2023-10-01',
      '/identities//:issueAccessToken?api-version=2023-10-01',
      '/identities/x/:unknownAction?api-version=2023-10-01',
      '/identities?api-version=%ZZ',
      '/identities?api-version[]=2023-10-01',
      '/identities?api-version[a]=1&api-version[b]=2',
      '/.well-known/jwks.json/../../etc/passwd',
      '/revocations?api-version=not-a-version',
      '/%2e%2e/%2e%2e/',
      '//',
      '*',
    ];
    const randomPaths = Array.from({ length: 25 }, () => `/${encodeURIComponent(junk(1 + Math.floor(random() * 40)))}`);
    for (const path of [...fixed, ...randomPaths]) {
      for (const method of ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS']) {
        expectSane(await rawRequest({ baseUrl: ts.url, method, path }), `${method} ${path}`);
      }
      expectSane(await acsRequest(target, 'POST', path, { json: { scopes: ['chat'] } }), `signed POST ${path}`);
    }
  });

  it('garbage headers never produce a 500', async () => {
    const path = '/identities?api-version=2023-10-01';
    const cases: Array<Record<string, string>> = [
      { authorization: junk(100).replace(/[^\x20-\x7e]/g, '') },
      { authorization: `HMAC-SHA256 ${junk(100).replace(/[^\x20-\x7e]/g, '')}` },
      { authorization: 'HMAC-SHA256 SignedHeaders=&Signature=' },
      { authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=%%%', 'x-ms-date': 'x' },
      { 'x-ms-date': 'Tue, 31 Feb 2026 25:61:61 GMT' },
      { 'x-ms-content-sha256': '' },
      { 'content-type': 'multipart/form-data; boundary=----x' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': ';;;' },
      { 'x-ms-client-request-id': 'a'.repeat(5000) },
      { 'repeatability-request-id': 'not-a-uuid' },
      { 'repeatability-first-sent': 'yesterday' },
      { 'last-event-id': '99999999999999999999' },
      { 'content-encoding': 'gzip' },
    ];
    for (const headers of cases) {
      expectSane(await acsRequest(target, 'POST', path, { json: {}, headers }), JSON.stringify(headers).slice(0, 100));
    }
  });
});
