import { createHash, randomBytes } from 'node:crypto';

/** Tokens the dev OIDC provider issued for one login. */
export interface LoginTokens {
  /** JWT access token for the token service (aud = the resource). */
  readonly accessToken: string;
  /** ID token (aud = the client id). */
  readonly idToken: string;
}

/**
 * Signs `login` in at a real OIDC provider the way a browser would: authorization request with PKCE, the login
 * form, the redirect with the code, then the code exchange. Cookies are carried by hand.
 */
export async function loginAs(
  issuer: string,
  login: string,
  options: { clientId: string; redirectUri: string; resource?: string },
): Promise<LoginTokens> {
  const jar = new Map<string, string>();
  const go = async (url: URL | string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return response;
  };
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL(`${issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    response_type: 'code',
    scope: 'openid roles',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'test-state',
    ...(options.resource === undefined ? {} : { resource: options.resource }),
  }).toString();
  let response = await go(auth);
  response = await go(new URL(response.headers.get('location') ?? '', issuer));
  const html = await response.text();
  const action = /action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error('no login form');
  response = await go(new URL(action, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ prompt: 'login', login, password: 'any' }),
  });
  let location = new URL(response.headers.get('location') ?? '', issuer);
  while (location.origin === new URL(issuer).origin) {
    response = await go(location);
    location = new URL(response.headers.get('location') ?? '', issuer);
  }
  const code = location.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${location.pathname}`);
  const tokenResponse = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.redirectUri,
      client_id: options.clientId,
      code_verifier: verifier,
      ...(options.resource === undefined ? {} : { resource: options.resource }),
    }),
  });
  const body = (await tokenResponse.json()) as { access_token?: string; id_token?: string };
  if (body.access_token === undefined || body.id_token === undefined) throw new Error('no tokens');
  return { accessToken: body.access_token, idToken: body.id_token };
}
