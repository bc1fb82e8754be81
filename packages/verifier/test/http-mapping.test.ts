import { authorize, TesseraError, type TesseraErrorCode } from '@tessera/core';
import {
  authenticateRequest,
  capabilityError,
  createRequestAuthenticator,
  createVerifier,
  errorResponse,
  errorToResponse,
  extractBearerToken,
  type Verifier,
} from '@tessera/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_STRING, FakeIdentityServer, mint, newRawId, T0 } from './helpers/fake-identity-server.js';

const ME = newRawId();

describe('errorResponse: one place maps failures to HTTP', () => {
  const tokenCodes: TesseraErrorCode[] = [
    'ERR_TOKEN_MALFORMED',
    'ERR_TOKEN_BAD_SIGNATURE',
    'ERR_TOKEN_UNKNOWN_KEY',
    'ERR_TOKEN_WRONG_ISSUER',
    'ERR_TOKEN_WRONG_AUDIENCE',
    'ERR_TOKEN_EXPIRED',
    'ERR_TOKEN_NOT_YET_VALID',
    'ERR_TOKEN_REVOKED',
    'ERR_TOKEN_IDENTITY_DELETED',
    'ERR_TOKEN_KEY_ROTATED',
    'ERR_TOKEN_UNSUPPORTED_VERSION',
  ];
  it.each(tokenCodes)('%s → 401 Bearer error="invalid_token" with an ACS-style body', (code) => {
    const r = errorResponse(new TesseraError(code, 'The access token has expired.'));
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="The access token has expired."',
    );
    expect(r.body).toEqual({
      error: {
        code: 'InvalidAccessToken',
        message: 'The access token has expired.',
        innererror: { code, message: 'The access token has expired.' },
      },
    });
  });

  it('a missing scope → 403 Bearer error="insufficient_scope" naming the scopes that would allow it', () => {
    const result = authorize({ identity: ME, scopes: ['chat.join'] }, 'chat.thread.create');
    const r = errorResponse(capabilityError(result, 'chat.thread.create'));
    expect(r.status).toBe(403);
    expect(r.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="The token's scopes do not allow 'chat.thread.create'; it needs one of: chat.", scope="chat"`,
    );
    expect(r.body.error).toMatchObject({
      code: 'Forbidden',
      target: 'chat.thread.create',
      innererror: { code: 'ERR_CAPABILITY_DENIED' },
    });
  });

  it('a refusal that is not about scope (not invited, role, not the sender) → 403 without a scope challenge', () => {
    const result = authorize({ identity: ME, scopes: ['voip'] }, 'voip.call.joinInRoom', { room: { invited: false } });
    const r = errorResponse(capabilityError(result, 'voip.call.joinInRoom'));
    expect(r.status).toBe(403);
    expect(r.headers['www-authenticate']).toBeUndefined();
    expect(r.body.error.message).toBe('The identity is not invited to this room.');
  });

  it('no credentials or another scheme → 401 with a bare Bearer challenge; a malformed header → 400 invalid_request', () => {
    expect(errorResponse(new TesseraError('ERR_AUTH_MISSING', 'x'))).toMatchObject({
      status: 401,
      headers: { 'www-authenticate': 'Bearer' },
    });
    expect(errorResponse(new TesseraError('ERR_AUTH_UNSUPPORTED_SCHEME', 'x')).status).toBe(401);
    const malformed = errorResponse(new TesseraError('ERR_AUTH_MALFORMED', 'bad'));
    expect(malformed.status).toBe(400);
    expect(malformed.headers['www-authenticate']).toBe('Bearer error="invalid_request", error_description="bad"');
  });

  it('stale revocation state or an unreachable identity server → 503 with Retry-After', () => {
    for (const code of ['ERR_REVOCATION_STALE', 'ERR_STORE_UNAVAILABLE'] as const) {
      const r = errorResponse(new TesseraError(code, 'm'));
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('5');
      expect(r.body.error.code).toBe('ServiceUnavailable');
    }
  });

  it('anything else → 500 without leaking the original message', () => {
    for (const error of [new Error('db password is hunter2'), new TesseraError('ERR_CONFIG_INVALID', 'hunter2')]) {
      const r = errorResponse(error);
      expect(r.status).toBe(500);
      expect(JSON.stringify(r)).not.toContain('hunter2');
    }
  });

  it('error_description only carries characters RFC 6750 allows', () => {
    const r = errorResponse(new TesseraError('ERR_TOKEN_MALFORMED', 'a "quoted"\\ line\nbreak é'));
    expect(r.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="a  quoted   line break  "',
    );
  });

  it('errorToResponse builds a fetch Response with a JSON body', async () => {
    const res = errorToResponse(new TesseraError('ERR_TOKEN_REVOKED', 'revoked'));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(((await res.json()) as { error: { innererror: { code: string } } }).error.innererror.code).toBe(
      'ERR_TOKEN_REVOKED',
    );
  });
});

describe('extractBearerToken', () => {
  it.each([
    [undefined, 'ERR_AUTH_MISSING'],
    ['', 'ERR_AUTH_MISSING'],
    ['Basic dXNlcjpwYXNz', 'ERR_AUTH_UNSUPPORTED_SCHEME'],
    ['Bearer', 'ERR_AUTH_MALFORMED'],
    ['Bearer a b', 'ERR_AUTH_MALFORMED'],
    ['Bearer ∂', 'ERR_AUTH_MALFORMED'],
  ])('%j → %s', (header, code) => {
    expect(() => extractBearerToken(header)).toThrow(expect.objectContaining({ code }));
  });

  it('accepts any case of the scheme', () => {
    expect(extractBearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(extractBearerToken('BEARER  abc.def.ghi ')).toBe('abc.def.ghi');
  });
});

describe('fetch-style: (Request) => Promise<…>', () => {
  const server = new FakeIdentityServer();
  let verifier: Verifier;
  beforeAll(async () => {
    verifier = createVerifier({ connectionString: CONNECTION_STRING, fetch: server.fetch, clock: () => T0 });
    await verifier.ready();
  });
  afterAll(async () => {
    await verifier.close();
  });

  const request = (token?: string) =>
    new Request('http://data-plane.test/threads', {
      method: 'POST',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  it('hands back the verified token', async () => {
    const outcome = await authenticateRequest(verifier, request(mint({ key: server.key, rawId: ME })));
    expect(outcome.ok && outcome.token.identity).toBe(ME);
  });

  it('hands back a ready 401 / 403 Response', async () => {
    const missing = await authenticateRequest(verifier, request());
    expect(!missing.ok && missing.response.status).toBe(401);
    const guard = createRequestAuthenticator(verifier, { capability: 'chat.thread.create' });
    const denied = await guard(request(mint({ key: server.key, scopes: ['chat.join.limited'] })));
    expect(denied.ok).toBe(false);
    if (!denied.ok) {
      expect(denied.response.status).toBe(403);
      expect(denied.response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    }
    const allowed = await guard(request(mint({ key: server.key, scopes: ['chat'] })));
    expect(allowed.ok).toBe(true);
  });

  it('passes the request to the context lookup and the dynamic capability', async () => {
    const guard = createRequestAuthenticator(verifier, {
      capability: (req) => (req.method === 'DELETE' ? 'chat.message.deleteOwn' : 'chat.message.updateOwn'),
      context: (req, token) => ({ messageSenderId: new URL(req.url).searchParams.get('sender') ?? token.identity }),
    });
    const token = mint({ key: server.key, rawId: ME, scopes: ['chat.join.limited'] });
    const mine = new Request(`http://dp.test/m?sender=${encodeURIComponent(ME)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await guard(mine)).ok).toBe(true);
    const theirs = new Request(`http://dp.test/m?sender=${encodeURIComponent(newRawId())}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    const r = await guard(theirs);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.response.status).toBe(403);
  });
});
