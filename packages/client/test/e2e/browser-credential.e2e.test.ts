import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from '@tessera/core';
import { type RunningServer, startServer } from '@tessera/server';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchTestChromium } from '../../../../test/support/chromium.js';
import { CircuitBreakerRegistry, IdentityClient } from '../../src/index.js';

interface PageState {
  refreshCount: number;
  tokens: string[];
  expiries: number[];
  failures: string[];
  clockSkewMs: number;
}

let workDir: string;
let tessera: RunningServer;
let pageServer: Server;
let pageUrl: string;
let browser: Browser;
let userId: string;
let tokenRequests = 0;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'tessera-client-browser-'));
  tessera = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(workDir, 'data'), logLevel: 'silent' });
  // The trusted token service of the sample: it holds the connection string, the page never does.
  const identity = new IdentityClient(tessera.connectionString, { circuitBreakers: new CircuitBreakerRegistry() });
  userId = (await identity.createUser()).id;

  await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    outfile: join(workDir, 'app.js'),
    logLevel: 'silent',
  });
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>tessera credential</title></head><body>' +
    '<p>refreshes: <span id="count">0</span></p><p>expires: <span id="expiry">-</span></p>' +
    '<script type="module" src="/app.js"></script></body></html>';

  pageServer = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (request.method === 'GET' && request.url === '/app.js') {
      response
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
        .end(readFileSync(join(workDir, 'app.js')));
    } else if (request.method === 'POST' && request.url === '/token') {
      tokenRequests++;
      identity.getToken(userId, ['chat'], { expiresInMinutes: 60 }).then(
        (t) =>
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ token: t.token, expiresOn: t.expiresOn.toISOString() })),
        () => response.writeHead(502).end(),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const address = pageServer.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  pageUrl = `http://127.0.0.1:${address.port}/`;
  browser = await launchTestChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
  await tessera?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('AutoRefreshingTokenCredential in headless Chromium against the real server', () => {
  it('refreshes proactively in the browser: the page shows the count rising and new 60-minute tokens', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(pageUrl);
      await page.waitForFunction(
        () => ((globalThis as unknown as { tesseraState?: PageState }).tesseraState?.refreshCount ?? 0) >= 3,
        undefined,
        { timeout: 30_000, polling: 100 },
      );
      // read the state and what the page shows in one go, so a refresh cannot land in between
      const { state, countText, expiryText } = await page.evaluate(() => ({
        state: (globalThis as unknown as { tesseraState: PageState }).tesseraState,
        countText: document.getElementById('count')?.textContent ?? '',
        expiryText: document.getElementById('expiry')?.textContent ?? '',
      }));
      expect(pageErrors).toEqual([]);
      expect(state.failures).toEqual([]);
      expect(state.tokens.length).toBeGreaterThanOrEqual(3);
      expect(new Set(state.tokens).size).toBe(state.tokens.length);
      for (const token of state.tokens) expect(decodeJwt(token).payload.sub).toBe(userId);
      // every token lives an hour; expiries move forward with each refresh
      for (const expiry of state.expiries) expect(expiry - Date.now()).toBeGreaterThan(59 * 60_000);
      expect(state.expiries).toEqual([...state.expiries].sort((a, b) => a - b));
      expect(Math.abs(state.clockSkewMs)).toBeLessThan(5_000);
      expect(countText).toBe(String(state.refreshCount));
      expect(Date.parse(expiryText)).toBe(state.expiries.at(-1));
      expect(tokenRequests).toBeGreaterThanOrEqual(3);
    } finally {
      await page.close();
    }
  });

  it('signs HMAC requests with WebCrypto in the browser exactly like the official SDK', async () => {
    const vector = (
      JSON.parse(readFileSync(new URL('../../../../test-vectors/hmac.json', import.meta.url), 'utf8')) as {
        cases: {
          method: string;
          url: string;
          body: string;
          accessKey: string;
          date: string;
          expected: { authorization: string };
        }[];
      }
    ).cases[1];
    if (vector === undefined) throw new Error('no vector');
    const page = await browser.newPage();
    try {
      await page.goto(pageUrl);
      await page.waitForFunction(() => 'tessera' in globalThis);
      const authorization = await page.evaluate(async (v) => {
        const api = (
          globalThis as unknown as {
            tessera: { createHmacHeaders(input: object): Promise<{ authorization: string }> };
          }
        ).tessera;
        return (
          await api.createHmacHeaders({
            method: v.method,
            url: v.url,
            body: v.body,
            key: v.accessKey,
            date: Date.parse(v.date),
          })
        ).authorization;
      }, vector);
      expect(authorization).toBe(vector.expected.authorization);
    } finally {
      await page.close();
    }
  });

  it("the package's main entry bundles for the browser with no Node built-ins", async () => {
    const result = await build({
      entryPoints: ['@tessera/client'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: fileURLToPath(new URL('../../../../', import.meta.url)),
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('packages/client/dist/index.js'))).toBe(true);
    expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node_modules\//.test(i))).toEqual([]);
  });
});
