// The browser side of browser-credential.e2e.test.ts: bundled by esbuild at test time, never committed.
import { AutoRefreshingTokenCredential, createHmacHeaders } from '../../../src/index.js';

interface PageState {
  refreshCount: number;
  tokens: string[];
  expiries: number[];
  failures: string[];
  clockSkewMs: number;
}

const state: PageState = { refreshCount: 0, tokens: [], expiries: [], failures: [], clockSkewMs: 0 };
const view = globalThis as unknown as {
  tesseraState: PageState;
  tessera: { createHmacHeaders: typeof createHmacHeaders };
};
view.tesseraState = state;
view.tessera = { createHmacHeaders };

function render(): void {
  const count = document.getElementById('count');
  const expiry = document.getElementById('expiry');
  if (count) count.textContent = String(state.refreshCount);
  if (expiry) expiry.textContent = new Date(state.expiries.at(-1) ?? 0).toISOString();
}

// Tokens live 60 minutes; a refresh window of 60 min − 4 s makes the credential refresh every few seconds.
const credential = new AutoRefreshingTokenCredential({
  tokenRefresher: async (abortSignal) => {
    const response = await fetch('/token', {
      method: 'POST',
      ...(abortSignal ? { signal: abortSignal as AbortSignal } : {}),
    });
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    const body = (await response.json()) as { token: string; expiresOn: string };
    const serverDate = response.headers.get('date');
    return { token: body.token, expiresOn: new Date(body.expiresOn), ...(serverDate ? { serverDate } : {}) };
  },
  refreshWindowMs: 60 * 60_000 - 4_000,
  jitterMs: 500,
  expiryMarginMs: 1_000,
  onRefreshed: (event) => {
    void credential.getToken().then((t) => {
      state.refreshCount = event.refreshCount;
      state.tokens.push(t.token);
      state.expiries.push(t.expiresOnTimestamp);
      state.clockSkewMs = credential.clockSkewMs;
      render();
    });
  },
  onRefreshFailed: (event) => {
    state.failures.push(event.error.code);
  },
});

void credential.getToken();
