// Chat in the browser with the official SDK and Tessera's event stream: `tessera serve`'s chat mount over HTTPS
// (the SDK sends bearer tokens over HTTPS only), two headless Chromium pages (Alice and Bob) each running the
// official ChatClient bundled by esbuild plus subscribeChatEvents. Alice creates a thread with Bob and writes; Bob
// hears both through the stream and answers; Alice hears the answer. Screenshots in the test's temp dir.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { withChat } from '@tessera/cli';
import { type RunningServer, startServer } from '@tessera/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundlePage } from './browser/bundle-page.js';
import { launchTestChromium } from '../../../../test/support/chromium.js';

type PageScope = {
  chatState: { events: { type: string; message?: { content: string } }[]; states: string[]; errors: string[] };
  startChat: (token: string, displayName: string) => void;
  createThread: (topic: string, otherId: string) => Promise<string>;
  sendMessage: (threadId: string, content: string) => Promise<string>;
};

const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-browser-'));
let server: RunningServer;
let identity: CommunicationIdentityClient;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  const js = await bundlePage(new URL('./browser/sdk-chat-page.ts', import.meta.url));
  const { options, mount } = withChat({ host: '127.0.0.1', port: 0, logLevel: 'silent', tlsDev: true, dataDir: dir });
  server = await startServer({
    ...options,
    register: async (app, host) => {
      await options.register?.(app, host);
      app.get('/chat-demo/', async (_request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><html><head><meta charset="utf-8"><title>Tessera chat</title></head><body>' +
              '<h1 id="who">-</h1><p>stream: <b id="state">-</b></p><ul id="messages"></ul>' +
              '<script type="module" src="/chat-demo/app.js"></script></body></html>',
          ),
      );
      app.get('/chat-demo/app.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(js));
    },
  });
  mount.attach(server);
  identity = new CommunicationIdentityClient(server.connectionString, {
    tlsOptions: { ca: readFileSync(server.devCaPath ?? '', 'utf8') },
  });
  browser = await launchTestChromium();
  // The page is served with the server's development CA, which this Chromium does not know.
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 640, height: 420 } });
}, 90_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openPage(name: string, token: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(new URL('/chat-demo/', server.url).toString());
  await page.waitForFunction(() => typeof (globalThis as unknown as PageScope).startChat === 'function');
  await page.evaluate(([t, n]) => (globalThis as unknown as PageScope).startChat(t, n), [token, name] as const);
  await page.waitForFunction(() => (globalThis as unknown as PageScope).chatState.states.includes('open'));
  return { page, errors };
}

const heard = (page: Page, content: string) =>
  page.waitForFunction(
    (c) =>
      (globalThis as unknown as PageScope).chatState.events.some(
        (e) => e.type === 'chatMessageReceived' && e.message?.content === c,
      ),
    content,
  );

it('Alice and Bob chat through the official SDK in two browser pages, hearing each other over the event stream', async () => {
  const alice = await identity.createUserAndToken(['chat']);
  const bob = await identity.createUserAndToken(['chat']);
  const a = await openPage('Alice', alice.token);
  const b = await openPage('Bob', bob.token);

  const threadId = await a.page.evaluate(
    (other) => (globalThis as unknown as PageScope).createThread('browser chat', other),
    bob.user.communicationUserId,
  );
  expect(threadId).toMatch(/^19:.+@thread\.v2$/);
  await a.page.evaluate(([id, c]) => (globalThis as unknown as PageScope).sendMessage(id, c), [
    threadId,
    'Hi Bob!',
  ] as const);
  await heard(b.page, 'Hi Bob!');
  await b.page.evaluate(([id, c]) => (globalThis as unknown as PageScope).sendMessage(id, c), [
    threadId,
    'Hi Alice!',
  ] as const);
  await heard(a.page, 'Hi Alice!');

  expect(await b.page.textContent('#messages')).toContain('Alice: Hi Bob!');
  expect(await a.page.textContent('#messages')).toContain('Bob: Hi Alice!');
  for (const p of [a, b]) {
    expect(p.errors).toEqual([]);
    expect(await p.page.evaluate(() => (globalThis as unknown as PageScope).chatState.errors)).toEqual([]);
  }
  await a.page.screenshot({ path: join(dir, 'chat-alice.png') });
  await b.page.screenshot({ path: join(dir, 'chat-bob.png') });
});
