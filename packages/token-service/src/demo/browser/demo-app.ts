// The demo page's script, bundled with @tessera/client by esbuild when the page is first requested.
import { AutoRefreshingTokenCredential } from '@tessera/client';

interface DemoConfig {
  anonymous: boolean;
  oidc: { issuer: string; clientId: string; scope?: string; resource?: string } | null;
}

interface TokenResponse {
  token: string;
  expiresOn: string;
  user: { communicationUserId: string };
  scopes: string[];
  policyRule: string;
  identity: 'stable' | 'ephemeral';
  session?: { secret: string; refreshUntil: string };
}

const LOGIN_KEY = 'tessera-demo-login';
const api = new URL('../api/', location.href);
const el = (id: string): HTMLElement => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`missing #${id}`);
  return found;
};

function log(text: string, error = false): void {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (error) li.className = 'error';
  el('log').prepend(li);
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json) as Record<string, unknown>;
}

async function discover(issuer: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const base = issuer.endsWith('/') ? issuer : `${issuer}/`;
  const response = await fetch(new URL('.well-known/openid-configuration', base));
  if (!response.ok) throw new Error(`discovery failed (${response.status})`);
  return (await response.json()) as { authorization_endpoint: string; token_endpoint: string };
}

const redirectUri = () => `${location.origin}${location.pathname}`;

async function startOidcLogin(oidc: NonNullable<DemoConfig['oidc']>): Promise<void> {
  const meta = await discover(oidc.issuer);
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(LOGIN_KEY, JSON.stringify({ verifier, state, tokenEndpoint: meta.token_endpoint }));
  const url = new URL(meta.authorization_endpoint);
  url.searchParams.set('client_id', oidc.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', oidc.scope ?? 'openid');
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  if (oidc.resource !== undefined) url.searchParams.set('resource', oidc.resource);
  location.assign(url.href);
}

/** Back from the identity provider: trade the code for the app token (PKCE, public client). */
async function finishOidcLogin(oidc: NonNullable<DemoConfig['oidc']>): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const saved = sessionStorage.getItem(LOGIN_KEY);
  if (code === null || saved === null) return undefined;
  sessionStorage.removeItem(LOGIN_KEY);
  history.replaceState(null, '', location.pathname);
  const login = JSON.parse(saved) as { verifier: string; state: string; tokenEndpoint: string };
  if (params.get('state') !== login.state) throw new Error('the login state does not match');
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri(),
    client_id: oidc.clientId,
    code_verifier: login.verifier,
  });
  if (oidc.resource !== undefined) form.set('resource', oidc.resource);
  const response = await fetch(login.tokenEndpoint, { method: 'POST', body: form });
  const body = (await response.json()) as { access_token?: string; id_token?: string; error?: string };
  if (!response.ok) throw new Error(`the identity provider refused the code (${body.error ?? response.status})`);
  // With a resource indicator the access token is a JWT for this service; otherwise use the ID token.
  const appToken = oidc.resource !== undefined ? body.access_token : body.id_token;
  if (appToken === undefined) throw new Error('the identity provider returned no token');
  return appToken;
}

async function callApi(method: string, path: string, authorization: string | undefined): Promise<Response> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (method === 'POST') headers['content-type'] = 'application/json';
  return fetch(new URL(path, api), { method, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
}

async function expectJson<T>(response: Response): Promise<T> {
  const body = (await response.json()) as T & { error?: { code: string; message: string } };
  if (!response.ok) {
    const error = body.error;
    throw new Error(
      error === undefined ? `HTTP ${response.status}` : `${response.status} ${error.code}: ${error.message}`,
    );
  }
  return body;
}

function show(result: TokenResponse, refreshCount: number): void {
  const claims = claimsOf(result.token);
  el('status').textContent = 'token ready';
  el('identity').textContent = result.user.communicationUserId;
  el('identity-mode').textContent = result.identity;
  el('policy-rule').textContent = result.policyRule;
  el('scopes').textContent = result.scopes.join(', ');
  el('token-scopes').textContent = String(claims.acsScope ?? '');
  el('token-id').textContent = String(claims.jti ?? '');
  el('expires').textContent = new Date(result.expiresOn).toLocaleString();
  el('refresh-count').textContent = String(refreshCount);
}

async function run(config: DemoConfig, appToken: string | undefined, who: string): Promise<void> {
  el('signin').hidden = true;
  el('session').hidden = false;
  el('who').textContent = who;
  el('status').textContent = 'getting a token…';
  const first = await expectJson<TokenResponse>(
    await callApi('GET', 'token', appToken === undefined ? undefined : `Bearer ${appToken}`),
  );
  log(`token issued by rule '${first.policyRule}' for ${first.user.communicationUserId}`);
  const refreshAuth =
    first.session !== undefined
      ? `Session ${first.session.secret}`
      : appToken === undefined
        ? undefined
        : `Bearer ${appToken}`;
  let latest = first;
  let refreshCount = 0;
  const credential = new AutoRefreshingTokenCredential({
    token: { token: first.token, expiresOn: new Date(first.expiresOn) },
    tokenRefresher: async () => {
      latest = await expectJson<TokenResponse>(await callApi('POST', 'token/refresh', refreshAuth));
      return { token: latest.token, expiresOn: new Date(latest.expiresOn) };
    },
    onRefreshed: (event) => {
      refreshCount = event.refreshCount;
      show(latest, refreshCount);
      log(`token refreshed (${event.trigger}); expires ${new Date(event.expiresOnTimestamp).toLocaleTimeString()}`);
    },
    onRefreshFailed: (event) => log(`refresh failed: ${event.error.message}`, true),
  });
  show(first, 0);
  el('refresh-now').addEventListener('click', () => {
    credential.refreshNow().catch((error: unknown) => log(String(error), true));
  });
  el('ask-more').addEventListener('click', async () => {
    const response = await fetch(new URL('token?scopes=chat,voip&expiresInMinutes=1440', api), {
      headers: refreshAuth === undefined ? {} : { authorization: refreshAuth },
    });
    const body = (await response.json()) as { error?: { code: string; message: string } };
    log(
      `asked for chat+voip for 24 h: ${response.status} ${body.error?.code ?? 'granted'} ${body.error?.message ?? ''}`,
      !response.ok,
    );
  });
  el('sign-out').addEventListener('click', async () => {
    credential.dispose();
    const response = await callApi('DELETE', 'user', refreshAuth);
    log(`identity deleted (${response.status}); its tokens are revoked`);
    el('status').textContent = 'signed out';
  });
  void config;
}

async function main(): Promise<void> {
  const config = (await (await fetch('config.json')).json()) as DemoConfig;
  const oidcButton = el('login-oidc');
  const guestButton = el('login-guest');
  oidcButton.hidden = config.oidc === null;
  guestButton.hidden = !config.anonymous;
  el('signin-help').textContent =
    config.oidc === null && !config.anonymous
      ? 'This token service has no demo login configured.'
      : config.oidc === null
        ? ''
        : `Identity provider: ${config.oidc.issuer}`;
  if (config.oidc !== null) {
    const oidc = config.oidc;
    oidcButton.addEventListener('click', () => {
      startOidcLogin(oidc).catch((error: unknown) => log(String(error), true));
    });
    const appToken = await finishOidcLogin(oidc);
    if (appToken !== undefined) {
      log('signed in with the identity provider');
      await run(config, appToken, String(claimsOf(appToken).sub ?? 'user'));
      return;
    }
  }
  guestButton.addEventListener('click', () => {
    run(config, undefined, 'guest').catch((error: unknown) => {
      log(String(error), true);
      el('status').textContent = 'failed';
    });
  });
}

main().catch((error: unknown) => log(String(error), true));
