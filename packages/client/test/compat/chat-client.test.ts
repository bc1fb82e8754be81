import { type Server, type Socket, createServer } from 'node:net';
import { ChatClient } from '@azure/communication-chat';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AutoRefreshingTokenCredential, type CredentialAccessToken } from '../../src/index.js';
import { jwtExpiringIn } from '../helpers/jwt.js';

// The official ChatClient requires https. A local TCP listener that drops every connection lets its
// pipeline run for real (credential → bearer policy → HTTP client) without anything pretending to be ACS.
let server: Server;
let endpoint: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `https://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A ChatClient whose per-retry policy records the Authorization header each attempt carries. */
function chatClient(credential: { getToken: AutoRefreshingTokenCredential['getToken']; dispose(): void }) {
  const authorizations: string[] = [];
  const capture: PipelinePolicy = {
    name: 'capture-authorization',
    sendRequest: (request, next) => {
      authorizations.push(request.headers.get('authorization') ?? '');
      return next(request);
    },
  };
  const chat = new ChatClient(endpoint, credential, {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: capture, position: 'perRetry' }],
  });
  return { chat, authorizations };
}

describe('AutoRefreshingTokenCredential with the official @azure/communication-chat ChatClient', () => {
  it("constructs a ChatClient and the client's pipeline asks our credential for the token it sends", async () => {
    const token = jwtExpiringIn(Date.now(), 60 * 60_000);
    const credential = new AutoRefreshingTokenCredential({ tokenRefresher: async () => token });
    const getToken = vi.spyOn(credential, 'getToken');
    const { chat, authorizations } = chatClient(credential);
    await expect(chat.createChatThread({ topic: 'hello' })).rejects.toThrow();
    expect(getToken).toHaveBeenCalled();
    expect(authorizations).toEqual([`Bearer ${token}`]);
    credential.dispose();
  });

  it('pain point: the SDK keeps using a stale token after a successful refresh — refreshAfterTimestamp makes the chat pipeline switch at once', async () => {
    const fresh = jwtExpiringIn(Date.now(), 60 * 60_000);
    const make = () =>
      new AutoRefreshingTokenCredential({
        // expires just over the 10-minute window from now: the proactive refresh runs in about a second
        token: jwtExpiringIn(Date.now(), 10 * 60_000 + 2_000),
        tokenRefresher: async () => fresh,
        jitterMs: 0,
      });
    const ours = make();
    const control = make();
    // The control hides refreshAfterTimestamp, as a credential without it would.
    const hidden = {
      getToken: async (options?: Parameters<AutoRefreshingTokenCredential['getToken']>[0]) => {
        const t: CredentialAccessToken = await control.getToken(options);
        return { token: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
      },
      dispose: () => control.dispose(),
    };
    const a = chatClient(ours);
    const b = chatClient(hidden);
    for (const c of [a, b]) await expect(c.chat.createChatThread({ topic: 'one' })).rejects.toThrow();
    await vi.waitFor(() => expect(ours.refreshCount + control.refreshCount).toBe(2), { timeout: 10_000, interval: 50 });
    for (const c of [a, b]) {
      await expect(c.chat.createChatThread({ topic: 'two' })).rejects.toThrow();
      await expect(c.chat.createChatThread({ topic: 'three' })).rejects.toThrow();
    }
    expect(a.authorizations.at(-1)).toBe(`Bearer ${fresh}`);
    expect(b.authorizations.at(-1)).not.toBe(`Bearer ${fresh}`); // still the old token, for minutes more
    ours.dispose();
    control.dispose();
  });
});
