import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IdentityClient, IdentityClientCredential } from '@tessera/client';
import { type RateLimit, TesseraError, base64ToBytes } from '@tessera/core';
import { isAllowedIssuerUrl, type JwsAlgorithm, type OidcIssuer } from '@tessera/oidc';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { parseRateRule } from '../limits/key-buckets.js';
import { type Policy, loadPolicyFile, parsePolicy, policyAllowsGuests } from '../policy/policy.js';
import type { TokenServiceMetrics } from '../metrics/token-service-metrics.js';
import { TOKEN_SERVICE_DEFAULTS as D, TOKEN_SERVICE_LIMITS as L } from './token-service-defaults.js';

/** An identity provider whose tokens (OIDC ID tokens or JWT access tokens) authenticate app users. */
export interface TrustedIssuer {
  /** Exactly the `iss` its tokens carry (e.g. `https://login.example.com/realms/app`). */
  readonly issuer: string;
  /** Accepted `aud` values: your API's resource id for access tokens, or the client id for ID tokens. */
  readonly audience: string | readonly string[];
  /** JWKS location; default: from `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri?: string;
  /** Accepted algorithms. Default: RS256, RS384, RS512, PS256…, ES256, ES384, ES512, EdDSA. */
  readonly algorithms?: readonly JwsAlgorithm[];
}

/** What a custom verify function returns for a valid app token. */
export interface VerifiedAppUser {
  readonly issuer: string;
  readonly subject: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * Your own app-token check, used instead of OIDC/JWKS verification (e.g. a session cookie lookup, an opaque
 * token introspection). Throw to refuse; a thrown `TokenServiceError` keeps its code, anything else is a 401.
 */
export type VerifyAppToken = (token: string, request: FastifyRequest) => Promise<VerifiedAppUser>;

/** Login settings the demo page uses (authorization code + PKCE in the browser). */
export interface DemoOidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** Default `openid`. */
  readonly scope?: string;
  /** Resource indicator (RFC 8707) to ask for, so the access token's audience is this service. */
  readonly resource?: string;
}

/** Options of the token service (the Fastify plugin and `startTokenService`). */
export interface TokenServiceOptions {
  /**
   * The identity server: a connection string (`endpoint=…;accesskey=…`), an endpoint and credential (an access-key
   * holder, a bearer-token function or a `TokenCredential`), or a ready `IdentityClient`.
   */
  readonly identity:
    | string
    | { readonly endpoint: string; readonly credential: IdentityClientCredential }
    | IdentityClient;
  /** The least-privilege policy: a parsed object, or the path of its JSON file. */
  readonly policy: Policy | string | Record<string, unknown>;
  /** Identity providers whose OIDC ID tokens / JWT access tokens authenticate app users. */
  readonly issuers?: readonly TrustedIssuer[];
  /** A custom app-token check instead of (or besides: tried when no issuer matches) OIDC. */
  readonly verify?: VerifyAppToken;
  /** Accept anonymous guests (needs a policy rule with `"match": {"anonymous": true}`). Default false. */
  readonly anonymous?: boolean;
  /** Browser origins allowed to call the API (`https://app.example.com`); `*` only without credentials. */
  readonly corsOrigins?: readonly string[];
  /** Send `Access-Control-Allow-Credentials: true` (cookies). Default false; never combined with `*`. */
  readonly corsCredentials?: boolean;
  /** Per client IP, every route but /healthz: `<limit>/<seconds>` or `off`. Default `120/60`. */
  readonly ipRateLimit?: string | RateLimit;
  /** Per app user or session, token and identity routes: default `30/60`. */
  readonly userRateLimit?: string | RateLimit;
  /** Guest identities one IP address may create per hour. Default 20. */
  readonly anonymousPerIpPerHour?: number;
  /** Largest request body, bytes. Default 16384. */
  readonly bodyLimit?: number;
  /** SQLite database and generated key live here. Default `./.tessera/token-service`. */
  readonly dataDir?: string;
  /**
   * Where sessions, mappings, the token cache, rate limits and guest caps live: `sqlite:<path>` (default
   * `sqlite:<dataDir>/token-service.db`, one instance) or `postgres://…[?schema=name]` (any number of instances
   * behind one address; docs/token-service-scaling.md).
   */
  readonly store?: string;
  /** base64 32-byte AES-256-GCM key for the token cache. Default: `<dataDir>/token-cache.key`, created mode 0600. */
  readonly encryptionKey?: string;
  /** Cache issued tokens (encrypted) and hand them out again while they have half their life left. Default true. */
  readonly tokenCache?: boolean;
  /** How often expired ephemeral identities are deleted, ms; 0 turns the background sweeper off. Default 60000. */
  readonly sweepIntervalMs?: number;
  /** Allowed clock difference with identity providers, seconds. Default 60. */
  readonly clockToleranceSeconds?: number;
  /** Serve the demo page at `<prefix>/demo/`. Default false. */
  readonly demo?: boolean | { readonly oidc?: DemoOidcSettings };
  /** Log destination (pino-compatible). Default: the Fastify instance's logger. */
  readonly logger?: FastifyBaseLogger;
  /** Unix ms; injectable so tests control time (buckets, sessions, sweeper, token checks). */
  readonly clock?: () => number;
  /** fetch used for JWKS and discovery. */
  readonly fetch?: typeof fetch;
  /** Record request, token and rate-limit metrics here (metrics/token-service-metrics.ts). Default: none. */
  readonly metrics?: TokenServiceMetrics;
}

/** Options after validation and defaults. */
export interface ResolvedTokenServiceOptions {
  readonly policy: Policy;
  readonly issuers: readonly OidcIssuer[];
  readonly anonymous: boolean;
  readonly corsOrigins: ReadonlySet<string>;
  readonly corsAnyOrigin: boolean;
  readonly corsCredentials: boolean;
  readonly ipRateLimit: RateLimit | undefined;
  readonly userRateLimit: RateLimit | undefined;
  readonly anonymousPerIpPerHour: number;
  readonly bodyLimit: number;
  readonly dataDir: string;
  readonly store:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: string | undefined };
  readonly encryptionKey: Uint8Array | undefined;
  readonly sweepIntervalMs: number;
  readonly clockToleranceSeconds: number;
  readonly demo: { readonly oidc: DemoOidcSettings | undefined } | undefined;
}

function invalid(setting: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', `Invalid --${setting}: ${message}`, { target: setting });
}

function intIn(setting: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalid(setting, `must be a whole number in [${min}, ${max}].`);
  return value;
}

function rateRule(setting: string, value: string | RateLimit | undefined, fallback: string): RateLimit | undefined {
  if (value === undefined) return parseRateRule(fallback, setting);
  if (typeof value === 'string') return parseRateRule(value, setting);
  if (
    !Number.isInteger(value.limit) ||
    value.limit < 1 ||
    !Number.isInteger(value.windowSeconds) ||
    value.windowSeconds < 1
  ) {
    throw invalid(setting, 'limit and windowSeconds must be whole numbers ≥ 1.');
  }
  return value;
}

/** Normalises an origin (`scheme://host[:port]`), or throws naming `cors-origin`. */
function origin(value: string): string {
  if (value === '*') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('cors-origin', `'${value.slice(0, 80)}' is not an origin like https://app.example.com.`);
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.pathname !== '/' ||
    url.search ||
    url.hash ||
    url.username
  ) {
    throw invalid('cors-origin', `'${value.slice(0, 80)}' must be scheme://host[:port] with no path.`);
  }
  return url.origin;
}

function loadEncryptionKey(options: TokenServiceOptions, dataDir: string): Uint8Array | undefined {
  if (options.tokenCache === false) return undefined;
  if (options.encryptionKey !== undefined) {
    const key = base64ToBytes(options.encryptionKey.trim());
    if (key === undefined || key.length !== 32) throw invalid('encryption-key', 'must be base64 of exactly 32 bytes.');
    return key;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, 'token-cache.key');
  if (existsSync(path)) {
    const key = base64ToBytes(readFileSync(path, 'utf8').trim());
    if (key === undefined || key.length !== 32)
      throw invalid('encryption-key', `the key file ${path} is not base64 of 32 bytes.`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}

/** `sqlite:<path>` or `postgres://…?schema=name` (the schema parameter is Tessera's, stripped before the driver). */
function resolveStore(value: string | undefined, dataDir: string): ResolvedTokenServiceOptions['store'] {
  if (value === undefined || value === '') return { kind: 'sqlite', path: join(dataDir, 'token-service.db') };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '') throw invalid('store', "sqlite: needs a path, e.g. 'sqlite:./.tessera/token-service.db'.");
    return { kind: 'sqlite', path: resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalid('store', 'is not a valid postgres:// URL.');
    }
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.toString(), schema };
  }
  throw invalid('store', "must be 'sqlite:<path>' or 'postgres://…'.");
}

/** Validates options and applies defaults. Throws `ERR_CONFIG_INVALID` whose `target` names the setting. */
export function resolveTokenServiceOptions(options: TokenServiceOptions): ResolvedTokenServiceOptions {
  if (options.identity === undefined || options.identity === '') {
    throw invalid('connection-string', 'the identity server connection string is required.');
  }
  if (options.policy === undefined) throw invalid('policy', 'a policy file is required.');
  const policy = typeof options.policy === 'string' ? loadPolicyFile(options.policy) : parsePolicy(options.policy);
  const issuers = (options.issuers ?? []).map((i): OidcIssuer => {
    try {
      new URL(i.issuer);
    } catch {
      throw invalid('issuer', `'${String(i.issuer).slice(0, 80)}' is not a URL.`);
    }
    // Keys are fetched from the JWKS URL, or discovered under the issuer: https, or http on loopback only.
    if (!isAllowedIssuerUrl(i.jwksUri ?? i.issuer)) {
      throw invalid(
        i.jwksUri === undefined ? 'issuer' : 'jwks-uri',
        `'${String(i.jwksUri ?? i.issuer).slice(0, 80)}' must be an https:// URL (http:// only on localhost / 127.0.0.1).`,
      );
    }
    const audiences = typeof i.audience === 'string' ? [i.audience] : i.audience;
    if (audiences === undefined || audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
      throw invalid('audience', `the issuer ${i.issuer} needs an audience (your API's resource id or client id).`);
    }
    return {
      issuer: i.issuer,
      audiences,
      ...(i.jwksUri === undefined ? {} : { jwksUri: i.jwksUri }),
      ...(i.algorithms === undefined ? {} : { algorithms: i.algorithms }),
    };
  });
  const anonymous = options.anonymous ?? false;
  if (anonymous && !policyAllowsGuests(policy)) {
    throw invalid(
      'anonymous',
      'guests are enabled but no policy rule matches them (add "match": {"anonymous": true}).',
    );
  }
  if (issuers.length === 0 && options.verify === undefined && !anonymous) {
    throw invalid(
      'issuer',
      'nobody could get a token: give --issuer and --audience, a verify function, or --anonymous.',
    );
  }
  const corsList = (options.corsOrigins ?? []).map(origin);
  const corsAnyOrigin = corsList.includes('*');
  const corsCredentials = options.corsCredentials ?? false;
  if (corsAnyOrigin && corsCredentials) {
    throw invalid('cors-origin', "'*' cannot be combined with credentials: list the origins.");
  }
  const dataDir = resolve(options.dataDir ?? D.dataDir);
  const demo =
    options.demo === undefined || options.demo === false
      ? undefined
      : { oidc: options.demo === true ? undefined : options.demo.oidc };
  return {
    policy,
    issuers,
    anonymous,
    corsOrigins: new Set(corsList.filter((o) => o !== '*')),
    corsAnyOrigin,
    corsCredentials,
    ipRateLimit: rateRule('ip-rate-limit', options.ipRateLimit, D.ipRateLimit),
    userRateLimit: rateRule('user-rate-limit', options.userRateLimit, D.userRateLimit),
    anonymousPerIpPerHour: intIn(
      'anonymous-per-ip-per-hour',
      options.anonymousPerIpPerHour,
      D.anonymousPerIpPerHour,
      ...L.anonymousPerIpPerHour,
    ),
    bodyLimit: intIn('body-limit', options.bodyLimit, D.bodyLimit, ...L.bodyLimit),
    dataDir,
    store: resolveStore(options.store, dataDir),
    encryptionKey: loadEncryptionKey(options, dataDir),
    sweepIntervalMs: intIn('sweep-interval-ms', options.sweepIntervalMs, 60_000, 0, 86_400_000),
    clockToleranceSeconds: intIn('clock-tolerance', options.clockToleranceSeconds, 60, 0, 3600),
    demo,
  };
}
