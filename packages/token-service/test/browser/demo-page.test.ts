import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchTestChromium } from '../../../../test/support/chromium.js';
import { type Stack, startStack } from '../helpers/stack.js';

const OUTPUT = fileURLToPath(new URL('../../../../test-output/', import.meta.url));
let stack: Stack;
let browser: Browser;
let demoUrl: string;

beforeAll(async () => {
  stack = await startStack();
  const service = await stack.tokenService({
    anonymous: true,
    demo: {
      oidc: {
        issuer: stack.oidc.issuer,
        clientId: stack.oidc.clientId,
        scope: 'openid roles',
        resource: stack.oidc.resource,
      },
    },
  });
  demoUrl = `${service.url}demo/`;
  stack.redirectUris.push(demoUrl);
  browser = await launchTestChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('demo page (headless Chromium, the client package’s credential in the browser)', () => {
  it('a guest gets an ephemeral least-privilege token, refreshes it, and is refused more than the policy allows', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demoUrl);
    await page.click('#login-guest');
    await expect.poll(() => page.textContent('#identity')).toMatch(/^8:acs:/);
    expect(await page.textContent('#identity-mode')).toBe('ephemeral');
    expect(await page.textContent('#scopes')).toBe('chat.join.limited');
    expect(await page.textContent('#token-scopes')).toBe('chat.join.limited');
    const firstJti = await page.textContent('#token-id');
    await page.click('#refresh-now');
    await expect.poll(() => page.textContent('#refresh-count')).toBe('1');
    expect(await page.textContent('#token-id')).not.toBe(firstJti);
    await page.click('#ask-more');
    await expect.poll(() => page.textContent('#log')).toContain('403 ERR_POLICY_DENIED');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a user signs in at the OIDC provider (code + PKCE), gets a stable staff token, watches it refresh; screenshot saved', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demoUrl);
    await page.click('#login-oidc');
    await page.waitForURL(`${stack.oidc.issuer}/**`);
    await page.fill('input[name="login"]', 'alice');
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${demoUrl}**`);
    await expect.poll(() => page.textContent('#identity')).toMatch(/^8:acs:/);
    expect(await page.textContent('#who')).toBe('alice');
    expect(await page.textContent('#policy-rule')).toBe('staff');
    expect(await page.textContent('#identity-mode')).toBe('stable');
    expect(await page.textContent('#token-scopes')).toBe('chat,voip');
    const identity = await page.textContent('#identity');
    await page.click('#refresh-now');
    await expect.poll(() => page.textContent('#refresh-count')).toBe('1');
    expect(await page.textContent('#identity')).toBe(identity); // stable: same identity after refresh
    mkdirSync(OUTPUT, { recursive: true });
    const path = `${OUTPUT}token-service-demo.png`;
    const png = await page.screenshot({ path, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(errors).toEqual([]);
    await page.close();
  });
});
