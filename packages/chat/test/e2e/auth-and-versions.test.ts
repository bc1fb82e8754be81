// Authentication and api-versions of the chat API over the wire: missing, malformed, revoked and key-rotated
// tokens; every Chat api-version exposing only what it had; unknown versions refused the ACS way.
import { importHmacKey, parseConnectionString, signRequestHeaders } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_API_VERSIONS } from '../../src/wire/api-versions.js';
import { type ChatTestServer, type TestUser, errorOf, rawRequest, startChatTestServer } from './helpers.js';

let t: ChatTestServer;
let alice: TestUser;
let threadId: string;

beforeAll(async () => {
  t = await startChatTestServer();
  alice = await t.user(['chat']);
  threadId = (await alice.chat.createChatThread({ topic: 'auth' })).chatThread?.id ?? '';
});
afterAll(async () => {
  await t?.close();
});

const path = (suffix = '', version = '2025-03-15') =>
  `/chat/threads/${encodeURIComponent(threadId)}${suffix}?api-version=${version}`;

/** Polls until `probe` answers a status other than 200 (the revocation feed is pushed, not polled). */
async function refusedWithin(probe: () => Promise<number>, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = await probe();
    if (status !== 200 || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tokens', () => {
  it('no Authorization header: 401 with WWW-Authenticate Bearer', async () => {
    const r = await rawRequest(t, 'GET', path());
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(errorOf(r.json).innererror?.code).toBe('ERR_AUTH_MISSING');
  });

  it('a malformed or forged token: 401 InvalidAccessToken, never a 500', async () => {
    for (const token of ['abc', 'a.b.c', `${alice.token.slice(0, -4)}AAAA`]) {
      const r = await rawRequest(t, 'GET', path(), { token });
      expect(r.status).toBe(401);
      expect(errorOf(r.json).code).toBe('InvalidAccessToken');
    }
  });

  it('a revoked token is refused on its next request; a new token works', async () => {
    const bob = await t.user(['chat']);
    const own = (await bob.chat.createChatThread({ topic: 'mine' })).chatThread?.id ?? '';
    const probe = async () =>
      (
        await rawRequest(t, 'GET', `/chat/threads/${encodeURIComponent(own)}?api-version=2025-03-15`, {
          token: bob.token,
        })
      ).status;
    expect(await probe()).toBe(200);
    await t.identity.revokeTokens(bob.identifier);
    expect(await refusedWithin(probe, 5000)).toBe(401);
    const r = await rawRequest(t, 'GET', `/chat/threads/${encodeURIComponent(own)}?api-version=2025-03-15`, {
      token: bob.token,
    });
    expect(errorOf(r.json).innererror?.code).toBe('ERR_TOKEN_REVOKED');
    const fresh = await t.identity.getToken(bob.identifier, ['chat']);
    const again = await rawRequest(t, 'GET', `/chat/threads/${encodeURIComponent(own)}?api-version=2025-03-15`, {
      token: fresh.token,
    });
    expect(again.status).toBe(200);
  });
});

describe('api-versions', () => {
  it('every Chat api-version is served and says so in api-supported-versions', async () => {
    for (const v of CHAT_API_VERSIONS) {
      const r = await rawRequest(t, 'GET', path('', v.version), { token: alice.token });
      expect(r.status, v.version).toBe(200);
      expect(r.headers['api-supported-versions']).toBe(CHAT_API_VERSIONS.map((x) => x.version).join(', '));
    }
  });

  it('a missing or unknown api-version: 400 UnsupportedApiVersion', async () => {
    for (const suffix of ['', '?api-version=2099-01-01', '?api-version=2023-10-01']) {
      const r = await rawRequest(t, 'GET', `/chat/threads/${encodeURIComponent(threadId)}${suffix}`, {
        token: alice.token,
      });
      expect(r.status, suffix).toBe(400);
      expect(errorOf(r.json)).toMatchObject({ code: 'UnsupportedApiVersion', target: 'api-version' });
    }
  });

  it('2021-03-07 has no message metadata; 2021-09-07 and later keep it; thread metadata only from 2025-03-15', async () => {
    const send = (version: string) =>
      rawRequest(t, 'POST', path('/messages', version), {
        token: alice.token,
        body: JSON.stringify({ content: `at ${version}`, metadata: { v: version } }),
      });
    const old = await send('2021-03-07');
    const newer = await send('2021-09-07');
    expect(old.status).toBe(201);
    const id = (old.json as { id: string }).id;
    const newerId = (newer.json as { id: string }).id;
    const got = async (messageId: string, version: string) =>
      (await rawRequest(t, 'GET', path(`/messages/${messageId}`, version), { token: alice.token })).json as Record<
        string,
        unknown
      >;
    expect((await got(id, '2025-03-15')).metadata).toBeUndefined();
    expect((await got(newerId, '2025-03-15')).metadata).toEqual({ v: '2021-09-07' });
    expect((await got(newerId, '2021-03-07')).metadata).toBeUndefined();
    const thread2024 = (await rawRequest(t, 'GET', path('', '2024-03-07'), { token: alice.token })).json as Record<
      string,
      unknown
    >;
    expect(thread2024.metadata).toBeUndefined();
    const thread2025 = (await rawRequest(t, 'GET', path('', '2025-03-15'), { token: alice.token })).json as Record<
      string,
      unknown
    >;
    expect(thread2025.metadata).toEqual({});
  });
});

// Last: regenerating the primary key revokes every token minted so far, this file's included.
describe('key rotation', () => {
  it('tokens minted under a regenerated access key are refused (ACS semantics); others are not', async () => {
    const carol = await t.user(['chat']);
    const own = (await carol.chat.createChatThread({ topic: 'rotation' })).chatThread?.id ?? '';
    const probe = async () =>
      (
        await rawRequest(t, 'GET', `/chat/threads/${encodeURIComponent(own)}?api-version=2025-03-15`, {
          token: carol.token,
        })
      ).status;
    expect(await probe()).toBe(200);
    // Regenerate the secondary key: tokens minted with the primary key (all of ours) stay valid.
    const { endpoint, accessKey } = parseConnectionString(t.server.connectionString);
    const regenerate = async (key: string) => {
      const url = new URL('admin/keys/:regenerate', endpoint);
      const body = JSON.stringify({ key });
      const headers = await signRequestHeaders({
        key: await importHmacKey(accessKey),
        method: 'POST',
        url,
        body,
        nowMs: Date.now(),
      });
      return rawRequest(t, 'POST', `${url.pathname}${url.search}`, { body, headers: { ...headers } });
    };
    expect((await regenerate('secondary')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await probe()).toBe(200);
    // Regenerating the primary key (which minted carol's token) revokes it.
    expect((await regenerate('primary')).status).toBe(200);
    expect(await refusedWithin(probe, 5000)).toBe(401);
    const r = await rawRequest(t, 'GET', `/chat/threads/${encodeURIComponent(own)}?api-version=2025-03-15`, {
      token: carol.token,
    });
    expect(errorOf(r.json).innererror?.code).toBe('ERR_TOKEN_KEY_ROTATED');
  });
});
