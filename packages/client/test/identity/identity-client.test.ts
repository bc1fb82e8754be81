import { isTesseraError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { IdentityClient, type IdentityClientOptions } from '../../src/index.js';
import { type Step, json, scriptedFetch } from '../helpers/scripted-fetch.js';

const KEY = Buffer.from('tessera-test-access-key-32-bytes').toString('base64');
const CS = `endpoint=http://127.0.0.1:18080;accesskey=${KEY}`;
const USER = '8:acs:2dee53b4-368b-45b4-ab52-8493fb117652_00000005-14a2-493b-8a72-5a3a0d000081';
const ENCODED = '8%3Aacs%3A2dee53b4-368b-45b4-ab52-8493fb117652_00000005-14a2-493b-8a72-5a3a0d000081';
const KEYS = {
  primaryKey: 'p',
  secondaryKey: 's',
  verifierKey: 'v',
  primaryConnectionString: 'endpoint=x;accesskey=p',
  secondaryConnectionString: 'endpoint=x;accesskey=s',
  verifierConnectionString: 'endpoint=x;accesskey=v',
};

function client(step: Step, options: IdentityClientOptions = {}) {
  const scripted = scriptedFetch([step]);
  return {
    client: new IdentityClient(CS, { fetch: scripted.fetch, circuitBreakers: false, ...options }),
    calls: scripted.calls,
  };
}

describe('IdentityClient: wire shapes', () => {
  it('createUser → POST /identities?api-version=2023-10-01 with a JSON body', async () => {
    const { client: c, calls } = client(() => json(201, { identity: { id: USER } }));
    expect(c.endpoint).toBe('http://127.0.0.1:18080/');
    await expect(c.createUser()).resolves.toEqual({ id: USER });
    expect(calls[0]).toMatchObject({ method: 'POST', body: '{}' });
    expect(calls[0]?.url.href).toBe('http://127.0.0.1:18080/identities?api-version=2023-10-01');
    expect(calls[0]?.headers['content-type']).toBe('application/json');
  });

  it('createUserAndToken sends createTokenWithScopes and expiresInMinutes and returns Dates and the server Date', async () => {
    const serverDate = 'Sun, 01 Mar 2026 12:00:00 GMT';
    const { client: c, calls } = client(() =>
      json(
        201,
        { identity: { id: USER }, accessToken: { token: 'a.b.c', expiresOn: '2026-03-01T13:00:00.1234567+00:00' } },
        { date: serverDate },
      ),
    );
    const result = await c.createUserAndToken(['chat', 'voip'], { expiresInMinutes: 60 });
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual({ createTokenWithScopes: ['chat', 'voip'], expiresInMinutes: 60 });
    expect(result.user).toEqual({ id: USER });
    expect(result.token).toBe('a.b.c');
    expect(result.expiresOn.toISOString()).toBe('2026-03-01T13:00:00.123Z');
    expect(result.serverDate?.getTime()).toBe(Date.parse(serverDate));
  });

  it('getToken → POST /identities/{percent-encoded id}/:issueAccessToken, accepting any user reference', async () => {
    const { client: c, calls } = client(() => json(200, { token: 'a.b.c', expiresOn: '2026-03-01T13:00:00Z' }));
    await c.getToken(USER, ['chat']);
    await c.getToken({ communicationUserId: USER }, ['voip'], { expiresInMinutes: 120 });
    await c.getToken({ id: USER }, ['chat.join']);
    for (const call of calls) {
      expect(call.url.pathname).toBe(`/identities/${ENCODED}/:issueAccessToken`);
      expect(call.url.search).toBe('?api-version=2023-10-01');
    }
    expect(JSON.parse(calls[1]?.body ?? '')).toEqual({ scopes: ['voip'], expiresInMinutes: 120 });
  });

  it('getUser → GET /identities/{id} with 2025-03-02-preview, parsing customId and lastTokenIssuedAt', async () => {
    const { client: c, calls } = client(() =>
      json(200, { id: USER, customId: 'alice', lastTokenIssuedAt: '2026-03-01T12:00:00Z' }),
    );
    const user = await c.getUser(USER);
    expect(user).toEqual({ id: USER, customId: 'alice', lastTokenIssuedAt: new Date('2026-03-01T12:00:00Z') });
    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url.href).toBe(`http://127.0.0.1:18080/identities/${ENCODED}?api-version=2025-03-02-preview`);
  });

  it('pain point: preview API versions get retired — only customId and getUser use the preview version, everything else the stable default', async () => {
    const { client: c, calls } = client(() =>
      json(201, { identity: { id: USER }, accessToken: { token: 'a.b.c', expiresOn: '2026-03-01T13:00:00Z' } }),
    );
    await c.createUser();
    await c.createUserAndToken(['chat']);
    await c.createUser({ customId: 'bob' });
    expect(calls.map((call) => call.url.searchParams.get('api-version'))).toEqual([
      '2023-10-01',
      '2023-10-01',
      '2025-03-02-preview',
    ]);
    const pinned = client(() => json(201, { identity: { id: USER } }), { previewApiVersion: '2026-01-01-preview' });
    await pinned.client.createUser({ customId: 'bob' });
    expect(pinned.calls[0]?.url.searchParams.get('api-version')).toBe('2026-01-01-preview');
  });

  it('a configured api-version that has the preview features is used for them too', async () => {
    const { client: c, calls } = client(() => json(200, { id: USER }), { apiVersion: '2025-03-02-preview' });
    await c.getUser(USER);
    expect(calls[0]?.url.searchParams.get('api-version')).toBe('2025-03-02-preview');
  });

  it('revokeTokens → POST :revokeAccessTokens with no body; deleteUser → DELETE', async () => {
    const { client: c, calls } = client(() => new Response(null, { status: 204 }));
    await c.revokeTokens(USER);
    await c.deleteUser(USER);
    expect(calls[0]).toMatchObject({ method: 'POST', body: undefined });
    expect(calls[0]?.url.pathname).toBe(`/identities/${ENCODED}/:revokeAccessTokens`);
    expect(calls[0]?.headers['content-type']).toBeUndefined();
    expect(calls[0]?.headers['x-ms-content-sha256']).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(calls[1]?.method).toBe('DELETE');
    expect(calls[1]?.url.pathname).toBe(`/identities/${ENCODED}`);
  });

  it('listKeys → GET /admin/keys and regenerateKey → POST /admin/keys/:regenerate, no api-version', async () => {
    const { client: c, calls } = client(() => json(200, KEYS));
    await expect(c.listKeys()).resolves.toEqual(KEYS);
    await expect(c.regenerateKey('secondary')).resolves.toEqual(KEYS);
    expect(calls[0]?.url.href).toBe('http://127.0.0.1:18080/admin/keys');
    expect(calls[1]).toMatchObject({ method: 'POST', body: '{"key":"secondary"}' });
    expect(calls[1]?.url.href).toBe('http://127.0.0.1:18080/admin/keys/:regenerate');
  });

  it('an access key holder (AzureKeyCredential shape) is re-read per request, so key rotation needs no new client', async () => {
    const holder = { key: KEY };
    const scripted = scriptedFetch([() => json(200, KEYS)]);
    const c = new IdentityClient('http://127.0.0.1:18080/', holder, { fetch: scripted.fetch, circuitBreakers: false });
    await c.listKeys();
    holder.key = Buffer.from('a different access key, rotated!').toString('base64');
    await c.listKeys();
    expect(scripted.calls[0]?.headers.authorization).not.toBe(scripted.calls[1]?.headers.authorization);
  });
});

describe('IdentityClient: configuration errors', () => {
  it('refuses a malformed connection string without echoing the key', () => {
    const bad = 'endpoint=http://127.0.0.1:1/;accesskey=%%%secret%%%';
    let error: unknown;
    try {
      new IdentityClient(bad);
    } catch (e) {
      error = e;
    }
    expect(isTesseraError(error, 'ERR_CONNECTION_STRING_INVALID')).toBe(true);
    expect((error as Error).message).not.toContain('secret');
  });

  it('refuses an endpoint with a path, as the official SDK does', () => {
    expect(() => new IdentityClient('http://127.0.0.1:1/prefix', { key: KEY })).toThrow(
      expect.objectContaining({ code: 'ERR_CONNECTION_STRING_INVALID' }),
    );
  });

  it('refuses an empty user id', async () => {
    const { client: c } = client(() => json(200, {}));
    await expect(c.getToken('', ['chat'])).rejects.toMatchObject({ code: 'ERR_IDENTIFIER_INVALID' });
  });
});
