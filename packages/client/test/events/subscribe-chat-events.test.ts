// subscribeChatEvents against a real identity server and a real chat service (Node's fetch streaming): events in
// order, a revoked token ends the stream and the subscriber comes back with a fresh token from the credential and
// Last-Event-ID (nothing sent in between is lost), refusals stop it with a typed error, close() ends it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient, type CommunicationUserToken } from '@azure/communication-identity';
import { type RunningChatService, startChatService } from '@tessera/chat';
import { type RunningServer, startServer } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoRefreshingTokenCredential } from '../../src/credential/auto-refreshing-token-credential.js';
import {
  type ChatEventsState,
  type ChatStreamEvent,
  subscribeChatEvents,
} from '../../src/events/subscribe-chat-events.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-client-events-'));
let identityServer: RunningServer;
let chat: RunningChatService;
let identity: CommunicationIdentityClient;
const fast = { baseDelayMs: 10, maxDelayMs: 50, minDelayMs: 0 };

beforeAll(async () => {
  identityServer = await startServer({ port: 0, logLevel: 'silent', dataDir: join(dir, 'identity') });
  chat = await startChatService({
    identityEndpoint: identityServer.url,
    connectionString: identityServer.verifierConnectionString,
    store: { kind: 'sqlite', path: join(dir, 'chat.db') },
    port: 0,
    eventStream: { tokenRecheckMs: 50 },
  });
  identity = new CommunicationIdentityClient(identityServer.connectionString, { allowInsecureConnection: true });
});
afterAll(async () => {
  await chat?.close();
  await identityServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(token: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(new URL(`${path}?api-version=2025-03-15`, chat.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status).toBeLessThan(300);
  return (await r.json()) as Record<string, unknown>;
}

async function thread(alice: CommunicationUserToken, bob: CommunicationUserToken) {
  const created = await post(alice.token, '/chat/threads', {
    topic: 'client',
    participants: [{ communicationIdentifier: { communicationUser: { id: bob.user.communicationUserId } } }],
  });
  const id = (created.chatThread as { id: string }).id;
  return (content: string) => post(alice.token, `/chat/threads/${encodeURIComponent(id)}/messages`, { content });
}

function collector() {
  const events: ChatStreamEvent[] = [];
  const waiters = new Set<() => void>();
  return {
    events,
    onEvent: (e: ChatStreamEvent) => {
      events.push(e);
      for (const w of [...waiters]) w();
    },
    until: (predicate: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (predicate()) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

const contents = (events: readonly ChatStreamEvent[]) =>
  events.filter((e) => e.type === 'chatMessageReceived').map((e) => (e.message as { content: string }).content);

describe('subscribeChatEvents', () => {
  it('receives events; after a revocation it refreshes the token and resumes with Last-Event-ID', async () => {
    const alice = await identity.createUserAndToken(['chat']);
    const bob = await identity.createUserAndToken(['chat']);
    const send = await thread(alice, bob);
    let refreshes = 0;
    const credential = new AutoRefreshingTokenCredential({
      token: bob.token,
      tokenRefresher: async () => {
        refreshes += 1;
        // A token issued after the revocation (whole seconds) is valid.
        await new Promise((r) => setTimeout(r, 1100));
        return (await identity.getToken(bob.user, ['chat'])).token;
      },
      refreshProactively: false,
    });
    const got = collector();
    const states: ChatEventsState[] = [];
    let resyncs = 0;
    const sub = subscribeChatEvents({
      endpoint: chat.url,
      credential,
      onEvent: got.onEvent,
      onResync: () => resyncs++,
      onStateChange: (s) => states.push(s),
      backoff: fast,
    });
    await new Promise<void>((resolve) => {
      const check = () => (states.includes('open') ? resolve() : setTimeout(check, 10));
      check();
    });
    await send('before');
    await got.until(() => contents(got.events).includes('before'));
    const idBefore = sub.lastEventId();
    expect(idBefore).toMatch(/^[0-9a-f]{12}-\d+$/);

    await identity.revokeTokens(bob.user);
    await send('during');
    await send('after');
    await got.until(() => contents(got.events).includes('after'));
    expect(contents(got.events)).toEqual(['before', 'during', 'after']);
    expect(refreshes).toBeGreaterThanOrEqual(1);
    expect(resyncs).toBe(0);
    expect(states.filter((s) => s === 'open').length).toBeGreaterThanOrEqual(2);
    sub.close();
    await sub.closed;
    expect(states.at(-1)).toBe('closed');
    credential.dispose();
  });

  it('stops with ERR_CAPABILITY_DENIED on 403 (a voip token), naming the service code', async () => {
    const voip = await identity.createUserAndToken(['voip']);
    const sub = subscribeChatEvents({
      endpoint: chat.url,
      credential: { getToken: async () => ({ token: voip.token }) },
      onEvent: () => undefined,
      backoff: fast,
    });
    await expect(sub.closed).rejects.toMatchObject({
      code: 'ERR_CAPABILITY_DENIED',
      status: 403,
      serviceCode: 'Forbidden',
    });
  });

  it('stops with ERR_TOKEN_REJECTED when the credential has only a rejected token', async () => {
    const user = await identity.createUserAndToken(['chat']);
    await identity.revokeTokens(user.user);
    // Give the chat service's revocation feed a moment to hear of it (the first 401 is all that matters).
    await new Promise((r) => setTimeout(r, 300));
    const sub = subscribeChatEvents({
      endpoint: chat.url,
      credential: { getToken: async () => ({ token: user.token }) },
      onEvent: () => undefined,
      backoff: fast,
    });
    await expect(sub.closed).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED' });
  });

  it('retries a network failure with backoff, then connects; the abort signal closes it', async () => {
    const user = await identity.createUserAndToken(['chat.join']);
    let calls = 0;
    const errors: unknown[] = [];
    const states: ChatEventsState[] = [];
    const controller = new AbortController();
    const sub = subscribeChatEvents({
      endpoint: chat.url.replace(/\/$/, ''),
      credential: { getToken: async () => ({ token: user.token }) },
      onEvent: () => undefined,
      onError: (e) => errors.push(e),
      onStateChange: (s) => states.push(s),
      signal: controller.signal,
      backoff: fast,
      fetch: (input, init) => {
        calls += 1;
        return calls === 1 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
      },
    });
    await new Promise<void>((resolve) => {
      const check = () => (states.includes('open') ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(errors).toHaveLength(1);
    expect(states.slice(0, 3)).toEqual(['connecting', 'reconnecting', 'open']);
    controller.abort();
    await sub.closed;
    expect(states.at(-1)).toBe('closed');
  });
});
