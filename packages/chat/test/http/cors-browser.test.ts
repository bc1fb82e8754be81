// CORS in a real browser: `tessera serve --tls-dev --chat-cors-origin <origin>` (the CLI, real flags) and two
// pages on other origins (tiny HTTP servers on other 127.0.0.1 ports), each running the official ChatClient and
// subscribeChatEvents bundled by esbuild in headless Chromium. The listed origin creates a thread, lists threads,
// sends a message and opens the event stream; the unlisted one is refused by the browser. Before the browser, the
// mounted server's own routes are checked to be unchanged by the chat plugin's OPTIONS routes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchTestChromium } from '../../../../test/support/chromium.js';
import { rawRequest } from '../e2e/helpers.js';
import { type CliProcess, spawnTessera } from '../e2e/processes.js';
import { bundlePage } from '../events/browser/bundle-page.js';

type CorsRun = (
  endpoint: string,
  token: string,
) => Promise<{ threads?: number; messageId?: string; stream?: string; error?: string }>;

const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-cors-'));
const pages: Server[] = [];
let serve: CliProcess;
let endpoint = '';
let ca = '';
let token = '';
let allowed = '';
let unlisted = '';
let browser: Browser;
let context: BrowserContext;

/** A page server on a free 127.0.0.1 port: a blank page and the bundled script; resolves with its origin. */
async function pageServer(js: string): Promise<string> {
  const server = createServer((request, response) => {
    const script = request.url === '/app.js';
    response.writeHead(200, { 'content-type': script ? 'text/javascript' : 'text/html; charset=utf-8' });
    response.end(script ? js : '<!doctype html><meta charset="utf-8"><script type="module" src="/app.js"></script>');
  });
  pages.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

beforeAll(async () => {
  const js = await bundlePage(new URL('./browser/cors-page.ts', import.meta.url));
  allowed = await pageServer(js);
  unlisted = await pageServer(js);
  serve = spawnTessera([
    'serve',
    '--tls-dev',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--log-level',
    'silent',
    '--data-dir',
    join(dir, 'data'),
    '--chat-cors-origin',
    allowed,
  ]);
  const [, connectionString = ''] = await serve.waitFor(/^Connection string: (\S+)$/m);
  const [, caPath = ''] = await serve.waitFor(/^Development CA: (\S+)$/m);
  endpoint = /endpoint=([^;]+)/.exec(connectionString)?.[1] ?? '';
  ca = readFileSync(caPath, 'utf8');
  const identity = new CommunicationIdentityClient(connectionString, { tlsOptions: { ca } });
  token = (await identity.createUserAndToken(['chat'])).token;
  browser = await launchTestChromium();
  // The server's certificate is signed by its development CA, which this Chromium does not know.
  context = await browser.newContext({ ignoreHTTPSErrors: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await serve?.stop();
  for (const p of pages) await new Promise((resolve) => p.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

it("the mounted server: chat preflights answered, the server's own routes and Rooms unchanged", async () => {
  const target = { url: endpoint, ca };
  const asked = { origin: allowed, 'access-control-request-method': 'POST' };
  const chat = await rawRequest(target, 'OPTIONS', '/chat/threads?api-version=2024-03-07', { headers: asked });
  expect(chat.status).toBe(204);
  expect(chat.headers['access-control-allow-origin']).toBe(allowed);
  // The identity server's routes have no OPTIONS route and no CORS, as before; neither has the Rooms API.
  for (const path of ['/identities?api-version=2023-10-01', '/rooms?api-version=2024-04-15']) {
    const r = await rawRequest(target, 'OPTIONS', path, { headers: asked });
    expect(r.status, path).toBe(404);
    expect(r.headers['access-control-allow-origin'], path).toBeUndefined();
  }
  // An actual answer carries the origin and the server's own request id, which the page may read.
  const list = await rawRequest(target, 'GET', '/chat/threads?api-version=2024-03-07', {
    token,
    headers: { origin: allowed },
  });
  expect(list.status).toBe(200);
  expect(list.headers['access-control-allow-origin']).toBe(allowed);
  expect(list.headers['x-ms-client-request-id']).toBeDefined();
});

it('a page on the listed origin chats through the official SDK; one on another origin is refused', async () => {
  const run = async (origin: string) => {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'corsRun' in globalThis);
    const result = await page.evaluate(
      ([e, t]) => (globalThis as unknown as { corsRun: CorsRun }).corsRun(e ?? '', t ?? ''),
      [endpoint, token],
    );
    await page.close();
    return result;
  };
  const ok = await run(allowed);
  expect(ok.error).toBeUndefined();
  expect(ok.threads).toBe(1);
  expect(ok.messageId).toMatch(/^\d+$/);
  expect(ok.stream).toBe('open');

  const refused = await run(unlisted);
  expect(refused.error).toMatch(/fetch|network/i);
  expect(refused.threads).toBeUndefined();
}, 60_000);
