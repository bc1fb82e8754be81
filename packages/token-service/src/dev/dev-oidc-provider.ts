import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { TesseraError } from '@tessera/core';

/** Options of {@link startDevOidcProvider}. */
export interface DevOidcProviderOptions {
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /**
   * Where the demo page lives (the public client's redirect URIs). A function is called on the first request, so
   * the provider can start before the token service whose URL it needs.
   */
  readonly redirectUris: readonly string[] | (() => readonly string[]);
  /** The resource indicator its JWT access tokens are for (their `aud`). Default `urn:tessera:token-service`. */
  readonly resource?: string;
  /** Public client id. Default `tessera-demo`. */
  readonly clientId?: string;
  /** Roles of a login name. Default: `alice` is `staff`, everyone else `member`. */
  readonly rolesFor?: (login: string) => readonly string[];
  /** Access and ID token lifetime, seconds. Default 3600. */
  readonly tokenTtlSeconds?: number;
}

/** A running development OpenID Connect provider. */
export interface DevOidcProvider {
  /** The `iss` of its tokens. */
  readonly issuer: string;
  readonly clientId: string;
  readonly resource: string;
  close(): Promise<void>;
}

interface ProviderLike {
  callback(): (req: unknown, res: unknown) => void;
  Grant: new (init: {
    clientId: string;
    accountId: string;
  }) => {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  };
}
type ProviderCtor = new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;

interface OidcContext {
  oidc: {
    client: { clientId: string };
    session: { accountId: string; grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
    provider: { Grant: { find(id: string): Promise<unknown> } } & ProviderLike;
  };
}

/** The default roles: `alice` is staff, anyone else a member. */
export function defaultDevRoles(login: string): readonly string[] {
  return login === 'alice' ? ['staff'] : ['member'];
}

/**
 * Starts node-oidc-provider (an optional peer dependency) as a local development identity provider: any login
 * name signs in (no password check), authorization code + PKCE for one public client, ID tokens (RS256) and
 * JWT access tokens for the token service (ES256) carrying a `roles` claim. For development and tests only.
 */
export async function startDevOidcProvider(options: DevOidcProviderOptions): Promise<DevOidcProvider> {
  let Provider: ProviderCtor;
  try {
    const name = 'oidc-provider';
    Provider = ((await import(name)) as { default: ProviderCtor }).default;
  } catch {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'Invalid --dev-oidc: it needs the oidc-provider package (npm install oidc-provider).',
      {
        target: 'dev-oidc',
      },
    );
  }
  const host = options.host ?? '127.0.0.1';
  const resource = options.resource ?? 'urn:tessera:token-service';
  const clientId = options.clientId ?? 'tessera-demo';
  const rolesFor = options.rolesFor ?? defaultDevRoles;
  const ttl = options.tokenTtlSeconds ?? 3600;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  const build = (): ProviderLike =>
    new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          token_endpoint_auth_method: 'none',
          redirect_uris: [
            ...(typeof options.redirectUris === 'function' ? options.redirectUris() : options.redirectUris),
          ],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      jwks: {
        keys: [
          { ...rsa, kid: `rsa-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' },
          { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' },
        ],
      },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      findAccount: async (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: async () => ({ sub, name: sub, roles: [...rolesFor(sub)] }),
      }),
      claims: { openid: ['sub'], profile: ['name'], roles: ['roles'] },
      scopes: ['openid', 'profile', 'roles'],
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => resource,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
            if (indicator !== resource) throw new Error('unknown resource');
            return {
              scope: 'tessera',
              audience: resource,
              accessTokenFormat: 'jwt',
              accessTokenTTL: ttl,
              jwt: { sign: { alg: 'ES256' } },
            };
          },
        },
      },
      extraTokenClaims: async (_ctx: unknown, token: { accountId?: string }) =>
        token.accountId === undefined ? undefined : { roles: [...rolesFor(token.accountId)] },
      // First-party dev client: no consent screen.
      loadExistingGrant: async (ctx: OidcContext) => {
        const { oidc } = ctx;
        const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
        if (grantId !== undefined) {
          const found = await oidc.provider.Grant.find(grantId);
          if (found !== undefined) return found;
        }
        const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
        grant.addOIDCScope('openid profile roles');
        grant.addResourceScope(resource, 'tessera');
        await grant.save();
        return grant;
      },
      pkce: { required: () => true },
      ttl: { AccessToken: ttl, IdToken: ttl, Interaction: 600, Session: 86_400, Grant: 86_400, AuthorizationCode: 60 },
      clientBasedCORS: (_ctx: unknown, origin: string, client: { redirectUris: string[] }) =>
        client.redirectUris.some((uri) => new URL(uri).origin === origin),
    });
  let handler: ((req: unknown, res: unknown) => void) | undefined;
  server.on('request', (req, res) => {
    handler ??= build().callback();
    handler(req, res);
  });
  return {
    issuer,
    clientId,
    resource,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
