// subscribeChatEvents in headless Chromium: two pages (Alice and Bob) on the chat API's own origin subscribe with
// fetch streaming; Alice's page sends, both pages hear it. Screenshot saved in the test's temp dir.
import { join } from 'node:path';
import { createNodeVerifier } from '@tessera/verifier/node';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundlePage } from './browser/bundle-page.js';
import { launchTestChromium } from '../../../../test/support/chromium.js';
import { chatPlugin } from '../../src/chat-plugin.js';
import { openChatStore } from '../../src/service/open-chat-store.js';
import type { ChatStore } from '../../src/store/chat-store.js';
import { type EventsFixture, startEventsFixture } from './events-fixture.js';

interface PageState {
  events: { type: string; message?: { content: string } }[];
  states: string[];
  errors: string[];
}
type PageScope = {
  chatState: PageState;
  startChat: (token: string) => void;
  sendChat: (token: string, threadId: string, content: string) => Promise<number>;
};

let f: EventsFixture;
let app: FastifyInstance;
let store: ChatStore;
let verifier: ReturnType<typeof createNodeVerifier>;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  f = await startEventsFixture();
  const js = await bundlePage(new URL('./browser/subscriber-page.ts', import.meta.url));
  // The page and the chat API on one origin (the chat plugin answers no CORS preflight).
  store = await openChatStore({ kind: 'sqlite', path: join(f.dir, 'page-chat.db') });
  verifier = createNodeVerifier({ connectionString: f.identityServer.verifierConnectionString });
  app = Fastify({ logger: false });
  await app.register(chatPlugin, { verifier, store });
  app.get('/page/:who', async (request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html><head><meta charset="utf-8"><title>${(request.params as { who: string }).who}</title></head>` +
          '<body><h1>Tessera chat events</h1><p>stream: <b id="state">-</b></p><ul id="messages"></ul>' +
          '<script type="module" src="/page.js"></script></body></html>',
      ),
  );
  app.get('/page.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(js));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  browser = await launchTestChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await verifier?.close();
  await store?.close();
  await f?.close();
});

async function openPage(who: string, token: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 600, height: 400 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/page/${who}`);
  await page.waitForFunction(() => typeof (globalThis as unknown as PageScope).startChat === 'function');
  await page.evaluate((t) => (globalThis as unknown as PageScope).startChat(t), token);
  await page.waitForFunction(() => (globalThis as unknown as PageScope).chatState.states.includes('open'));
  return { page, errors };
}

it('two pages subscribe with fetch streaming; a message sent from one reaches both', async () => {
  const alice = await f.identity.createUserAndToken(['chat']);
  const bob = await f.identity.createUserAndToken(['chat']);
  const created = await fetch(`${origin}/chat/threads?api-version=2025-03-15`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      topic: 'browser',
      participants: [{ communicationIdentifier: { communicationUser: { id: bob.user.communicationUserId } } }],
    }),
  });
  expect(created.status).toBe(201);
  const threadId = ((await created.json()) as { chatThread: { id: string } }).chatThread.id;
  const a = await openPage('Alice', alice.token);
  const b = await openPage('Bob', bob.token);
  const status = await a.page.evaluate(
    ([t, id]) => (globalThis as unknown as PageScope).sendChat(t, id, 'hello from the browser'),
    [alice.token, threadId] as const,
  );
  expect(status).toBe(201);
  for (const { page } of [a, b]) {
    await page.waitForFunction(() =>
      (globalThis as unknown as PageScope).chatState.events.some(
        (e) => e.type === 'chatMessageReceived' && e.message?.content === 'hello from the browser',
      ),
    );
    expect(await page.textContent('#messages')).toContain('Alice: hello from the browser');
    expect(await page.evaluate(() => (globalThis as unknown as PageScope).chatState.errors)).toEqual([]);
  }
  await b.page.screenshot({ path: join(f.dir, 'chat-events-bob.png') });
  expect(a.errors).toEqual([]);
  expect(b.errors).toEqual([]);
  await a.page.close();
  await b.page.close();
});
