// Test fixtures of the Entra ID / OIDC suites: a real OpenID provider (the certified `oidc-provider`) running
// in-process, issuing RFC 9068 JWT access tokens for the resource https://communication.azure.com — by
// client credentials (service principals) and by the authorization-code flow (users, for the token exchange).
import { createHash, createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { buildStringToSign, formatHmacAuthorization, parseConnectionString } from '@tessera/core';
import Provider, { type Configuration } from 'oidc-provider';
import type { ServerOptions } from '../../src/config/server-options.js';
import { type RunningServer, startServer } from '../../src/start-server.js';
import { tempDir } from '../e2e/helpers.js';

/** The resource (and audience) Entra clients ask for as `https://communication.azure.com//.default`. */
export const ACS_RESOURCE = 'https://communication.azure.com';

/** A registered client of the test provider. */
export interface TestClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** A running provider. */
export interface TestProvider {
  readonly issuer: string;
  /** Service principals with the client-credentials grant. */
  readonly clients: {
    /** Signs RS256 tokens. */
    readonly admin: TestClient;
    /** Has no role assignment in the tests. */
    readonly outsider: TestClient;
    /** Its tokens live one minute (tests move the server's clock past it rather than wait). */
    readonly shortLived: TestClient;
    /** Signs ES256 tokens. */
    readonly ecApp: TestClient;
    /** The user-facing app of the token exchange (authorization code + PKCE). */
    readonly teamsApp: TestClient;
  };
  /** The user of the authorization-code flow (a uuid, as Entra object ids are). */
  readonly userId: string;
  /** A second user. */
  readonly otherUserId: string;
  /** Client-credentials access token (JWT) for `resource`. */
  clientToken(client: TestClient, resource?: string): Promise<{ token: string; expiresIn: number }>;
  /** A user's access token for the resource, by the authorization-code flow (login and consent automated). */
  userToken(client: TestClient, userId: string, resource?: string): Promise<{ token: string; expiresIn: number }>;
  close(): Promise<void>;
}

function privateJwk(kind: 'rsa' | 'ec', kid: string): Record<string, unknown> {
  const { privateKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString();
}

/** Starts an OpenID provider on 127.0.0.1 (plain HTTP: a loopback issuer is allowed for development). */
export async function startTestProvider(): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = (): TestClient => ({ clientId: randomUUID(), clientSecret: randomUUID() });
  const clients = {
    admin: client(),
    outsider: client(),
    shortLived: client(),
    ecApp: client(),
    teamsApp: client(),
  };
  const userId = randomUUID();
  const otherUserId = randomUUID();
  const redirectUri = `${issuer}/callback`;
  const serviceClient = (c: TestClient) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  });
  const configuration: Configuration = {
    clients: [
      serviceClient(clients.admin),
      serviceClient(clients.outsider),
      serviceClient(clients.shortLived),
      serviceClient(clients.ecApp),
      {
        client_id: clients.teamsApp.clientId,
        client_secret: clients.teamsApp.clientSecret,
        grant_types: ['authorization_code', 'client_credentials'],
        redirect_uris: [redirectUri],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [privateJwk('rsa', 'rsa-1'), privateJwk('ec', 'ec-1')] },
    cookies: { keys: [randomUUID()] },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => ACS_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, c) => ({
          scope: 'Teams.ManageCalls Teams.ManageChats',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: c.clientId === clients.shortLived.clientId ? 60 : 3600,
          jwt: { sign: { alg: c.clientId === clients.ecApp.clientId ? 'ES256' : 'RS256' } },
        }),
      },
    },
    pkce: { required: () => false },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      IdToken: 3600,
      AuthorizationCode: 60,
    },
  };
  const provider = new Provider(issuer, configuration);

  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    const accountId = (details.params.login_hint as string | undefined) ?? userId;
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({
      accountId: details.session?.accountId ?? accountId,
      clientId: String(details.params.client_id),
    });
    grant.addOIDCScope('openid');
    grant.addResourceScope(ACS_RESOURCE, 'Teams.ManageCalls Teams.ManageChats');
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    if (req.url?.startsWith('/callback')) {
      res.end('ok');
      return;
    }
    callback(req, res);
  });

  const tokenRequest = async (c: TestClient, params: Record<string, string>) => {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
      },
      body: form(params),
    });
    const json = (await response.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (json.access_token === undefined) throw new Error(`token request failed: ${JSON.stringify(json)}`);
    return { token: json.access_token, expiresIn: json.expires_in ?? 0 };
  };

  return {
    issuer,
    clients,
    userId,
    otherUserId,
    clientToken: (c, resource = ACS_RESOURCE) => tokenRequest(c, { grant_type: 'client_credentials', resource }),
    async userToken(c, user, resource = ACS_RESOURCE) {
      // A browser, reduced to a cookie jar and manual redirects.
      const jar = new Map<string, string>();
      const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      let url = `${issuer}/auth?${form({
        client_id: c.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid Teams.ManageCalls Teams.ManageChats',
        resource,
        login_hint: user,
        state: randomUUID(),
      })}`;
      for (let hop = 0; hop < 20; hop++) {
        const response = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader() } });
        for (const line of response.headers.getSetCookie()) {
          const [pair = ''] = line.split(';');
          const eq = pair.indexOf('=');
          const value = pair.slice(eq + 1);
          if (value === '') jar.delete(pair.slice(0, eq));
          else jar.set(pair.slice(0, eq), value);
        }
        const location = response.headers.get('location');
        if (location === null) throw new Error(`authorization stopped at ${response.status}: ${await response.text()}`);
        url = new URL(location, url).toString();
        if (url.startsWith(redirectUri)) {
          const code = new URL(url).searchParams.get('code');
          if (code === null) throw new Error(`no code: ${url}`);
          return tokenRequest(c, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, resource });
        }
      }
      throw new Error('too many redirects');
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the Azure SDK side

/**
 * The smallest `TokenCredential`: each `getToken` fetches a fresh token from the provider, as
 * `ClientSecretCredential` would from Entra ID. Records the scopes the SDK asked for.
 */
export class ProviderCredential implements TokenCredential {
  readonly requestedScopes: string[][] = [];
  constructor(
    private readonly fetchToken: () => Promise<{ token: string; expiresIn: number }>,
    /** Claim this lifetime whatever the token says (to hand the SDK a token it believes is fresh). */
    private readonly claimedLifetimeMs?: number,
  ) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    this.requestedScopes.push(Array.isArray(scopes) ? scopes : [scopes]);
    const { token, expiresIn } = await this.fetchToken();
    return { token, expiresOnTimestamp: Date.now() + (this.claimedLifetimeMs ?? expiresIn * 1000) };
  }
}

/** A credential that always hands out the same token (claimed valid for an hour). */
export function fixedCredential(token: string): ProviderCredential {
  return new ProviderCredential(async () => ({ token, expiresIn: 3600 }), 3_600_000);
}

// ---------------------------------------------------------------------------------------------------------------
// Tessera over HTTPS

/** A Tessera server started in-process with `tlsDev` on a temp data dir. */
export interface TlsServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  /** PEM of the development CA. */
  readonly ca: string;
  readonly primaryKey: string;
  close(): Promise<void>;
}

/** Starts Tessera with `tlsDev: true` and the given options (trusted issuers, …). */
export async function startTlsServer(options: ServerOptions = {}): Promise<TlsServer> {
  const dir = options.dataDir === undefined ? tempDir('tessera-oidc-') : undefined;
  const dataDir = options.dataDir ?? dir?.path ?? '';
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    tlsDev: true,
    ...options,
    dataDir,
  });
  return {
    server,
    url: server.url,
    dataDir,
    ca: readFileSync(server.devCaPath ?? '', 'utf8'),
    primaryKey: parseConnectionString(server.connectionString).accessKey,
    async close() {
      await server.close();
      dir?.cleanup();
    },
  };
}

/** What to authenticate a raw request with. */
export type Auth = { readonly accessKey: string } | { readonly bearer: string } | undefined;

/** One JSON request over HTTPS trusting `ca`; HMAC-signed like the SDKs, or with a bearer token. */
export async function tlsRequest(
  target: { readonly url: string; readonly ca: string },
  method: string,
  path: string,
  auth: Auth,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(path, target.url);
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth !== undefined && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
  if (auth !== undefined && 'accessKey' in auth) {
    const date = new Date().toUTCString();
    const contentHash = createHash('sha256').update(text).digest('base64');
    const signature = createHmac('sha256', Buffer.from(auth.accessKey, 'base64'))
      .update(buildStringToSign({ method, pathAndQuery: url.pathname + url.search, date, host: url.host, contentHash }))
      .digest('base64');
    headers['x-ms-date'] = date;
    headers['x-ms-content-sha256'] = contentHash;
    headers.authorization = formatHmacAuthorization(signature);
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: target.ca }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        data += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          json: data === '' ? {} : (JSON.parse(data) as Record<string, unknown>),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Decodes a JWT payload (no verification). */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A server clock the test can move forward (within the HMAC replay window, so signed requests still pass). */
export interface MovableClock {
  readonly now: () => number;
  /** Moves the clock to just after `exp` (Unix seconds). */
  passExpiry(exp: number): void;
  reset(): void;
}

/** Creates a {@link MovableClock} starting at the wall clock. */
export function movableClock(): MovableClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    passExpiry(exp) {
      offset = Math.max(offset, exp * 1000 + 1 - Date.now());
    },
    reset() {
      offset = 0;
    },
  };
}
