// The chat demo page (docs/chat.md#demo) in headless Chromium, two pages: each signs in as a guest at a real token
// service (real tokens with chat + presence, minted by a real identity server on the Tessera api-version), chats with
// the official @azure/communication-chat SDK bundled by esbuild, hears the other through subscribeChatEvents and sees
// the other's presence. The page is served by the chat service itself (same origin: no CORS on chat); the token
// service allows that origin. Screenshots go to the test's temp dir (printed), never into the repository.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { IdentityClient } from '@tessera/client';
import { TESSERA_API_VERSION } from '@tessera/core';
import { type RunningServer, startServer } from '@tessera/server';
import { type RunningTokenService, startTokenService } from '@tessera/token-service';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchTestChromium } from '../../../../test/support/chromium.js';
import { createNodeFetch } from '../../src/http/node-fetch.js';
import type { RunningChatService } from '../../src/service/start-chat-service.js';
import { startTlsChatService } from '../presence/tls-chat-service.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-demo-'));
let identityServer: RunningServer;
let chat: RunningChatService;
let tokenService: RunningTokenService;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  identityServer = await startServer({ port: 0, logLevel: 'silent', dataDir: join(dir, 'identity'), tlsDev: true });
  const ca = readFileSync(identityServer.devCaPath ?? '', 'utf8');
  // The token service needs the chat origin (CORS) and the chat service the token service's URL: a free port first.
  const chatPort = await freePort();
  const chatOrigin = `https://127.0.0.1:${chatPort}`;
  tokenService = await startTokenService({
    identity: new IdentityClient(identityServer.connectionString, {
      apiVersion: TESSERA_API_VERSION.version,
      fetch: createNodeFetch({ ca }) as unknown as typeof fetch,
    }),
    policy: {
      rules: [{ name: 'guest', match: { anonymous: true }, scopes: ['chat', 'presence'], maxLifetimeMinutes: 60 }],
    },
    anonymous: true,
    corsOrigins: [chatOrigin],
    dataDir: join(dir, 'token-service'),
    port: 0,
    logLevel: 'silent',
  });
  chat = await startTlsChatService(identityServer, join(dir, 'identity'), dir, {
    port: chatPort,
    demo: { tokenService: tokenService.url },
  });
  browser = await launchTestChromium();
  // The chat service's certificate is signed by the identity server's development CA, which Chromium does not know.
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 760, height: 560 } });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await chat?.close();
  await tokenService?.close();
  await identityServer?.close();
  console.log(`chat demo screenshots: ${dir}`);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function signIn(): Promise<{ page: Page; errors: string[]; id: string }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(new URL('/chat-demo/', chat.url).toString());
  await page.waitForSelector('body[data-ready="true"]');
  await page.click('#login-guest');
  await expect.poll(() => page.textContent('#identity'), { timeout: 20_000 }).toMatch(/^8:acs:/);
  await expect.poll(() => page.textContent('#stream-state'), { timeout: 20_000 }).toBe('open');
  return { page, errors, id: (await page.textContent('#identity')) ?? '' };
}

it('two guests chat through the official SDK in the demo page, with presence, over the event stream', async () => {
  const alice = await signIn();
  const bob = await signIn();
  expect(alice.id).not.toBe(bob.id);
  expect(await alice.page.textContent('#scopes')).toBe('chat, presence');

  await alice.page.fill('#peer-id', bob.id);
  await alice.page.click('#start-chat');
  await expect.poll(() => alice.page.textContent('#thread-id'), { timeout: 20_000 }).toMatch(/^19:.+@thread\.v2$/);
  // Bob's page opens the thread from the chatThreadCreated event.
  await expect
    .poll(() => bob.page.textContent('#thread-id'), { timeout: 20_000 })
    .toBe(await alice.page.textContent('#thread-id'));

  await alice.page.fill('#message', 'Hi Bob!');
  await alice.page.click('#send');
  await expect.poll(() => bob.page.textContent('#messages'), { timeout: 20_000 }).toContain('them: Hi Bob!');
  await bob.page.fill('#message', 'Hi Alice!');
  await bob.page.click('#send');
  await expect.poll(() => alice.page.textContent('#messages'), { timeout: 20_000 }).toContain('them: Hi Alice!');
  expect(await alice.page.textContent('#messages')).toContain('me: Hi Bob!');

  // Presence: Bob sets busy with a note; Alice sees it through the stream.
  await bob.page.selectOption('#presence', 'busy');
  await bob.page.fill('#presence-note', 'in a meeting');
  await bob.page.click('#set-presence');
  await expect.poll(() => alice.page.textContent('#peer-presence'), { timeout: 20_000 }).toBe('busy');
  expect(await alice.page.textContent('#peer-note')).toBe('“in a meeting”');

  for (const p of [alice, bob]) {
    expect(p.errors).toEqual([]);
    expect(await p.page.textContent('#log')).toBe('');
  }
  await alice.page.screenshot({ path: join(dir, 'chat-demo-alice.png') });
  await bob.page.screenshot({ path: join(dir, 'chat-demo-bob.png') });
}, 120_000);
