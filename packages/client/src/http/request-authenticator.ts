import { type HmacKey, TesseraError, importHmacKey, signRequestHeaders } from '@tessera/core';
import type { AbortSignalLike } from '../runtime/abort-signal-like.js';
import type { Clock } from '../runtime/clock.js';

/** A function that returns a bearer token (an Entra / OIDC access token) for the identity server. */
export type BearerTokenProvider = (options: { abortSignal?: AbortSignalLike }) => Promise<string | { token: string }>;

/** The `@azure/core-auth` `TokenCredential` shape (e.g. `DefaultAzureCredential`). */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: { abortSignal?: AbortSignalLike },
  ): Promise<{ token: string; expiresOnTimestamp?: number } | null>;
}

/** An access key holder, e.g. `AzureKeyCredential` from `@azure/core-auth`; `key` is re-read per request. */
export interface AccessKeyCredentialLike {
  readonly key: string;
}

/** Anything an `IdentityClient` can authenticate with besides a connection string. */
export type IdentityClientCredential = AccessKeyCredentialLike | BearerTokenProvider | TokenCredentialLike;

/** The scope the Azure SDKs request for ACS (docs/spec/wire-protocol.md §3; the double slash is intended). */
export const COMMUNICATION_SCOPE = 'https://communication.azure.com//.default';

/** What an authenticator sees of a request. */
export interface AuthenticatedRequest {
  method: string;
  url: URL;
  body: string | undefined;
}

/** Adds authentication headers to one attempt of a request (called per attempt: HMAC dates must be fresh). */
export interface RequestAuthenticator {
  /** `hmac` or `bearer`, for diagnostics. */
  readonly scheme: 'hmac' | 'bearer';
  headers(request: AuthenticatedRequest, abortSignal: AbortSignalLike | undefined): Promise<Record<string, string>>;
}

/** HMAC-SHA256 with an access key; the imported CryptoKey is cached until the key text changes. */
export function hmacAuthenticator(source: AccessKeyCredentialLike, clock: Clock): RequestAuthenticator {
  let cached: { key: string; crypto: Promise<HmacKey> } | undefined;
  return {
    scheme: 'hmac',
    async headers(request) {
      const key = source.key;
      if (cached === undefined || cached.key !== key) cached = { key, crypto: importHmacKey(key) };
      const { method, url, body } = request;
      const signed = await signRequestHeaders({ key: await cached.crypto, method, url, body, nowMs: clock.now() });
      return { ...signed };
    },
  };
}

/** `Authorization: Bearer <token>` from a provider function or a `TokenCredential`. */
export function bearerAuthenticator(
  source: BearerTokenProvider | TokenCredentialLike,
  scopes: string | string[] = COMMUNICATION_SCOPE,
): RequestAuthenticator {
  return {
    scheme: 'bearer',
    async headers(_request, abortSignal) {
      const options = abortSignal === undefined ? {} : { abortSignal };
      const result = typeof source === 'function' ? await source(options) : await source.getToken(scopes, options);
      const token = typeof result === 'string' ? result : result?.token;
      if (token === undefined || token === '') {
        throw new TesseraError('ERR_AUTH_MISSING', 'The bearer token provider returned no token.');
      }
      return { authorization: `Bearer ${token}` };
    },
  };
}

/** True for an object holding an access key (rather than a token provider). */
export function isAccessKeyCredential(value: unknown): value is AccessKeyCredentialLike {
  return typeof value === 'object' && value !== null && typeof (value as { key?: unknown }).key === 'string';
}

/** True for a function or an object with `getToken`. */
export function isTokenSource(value: unknown): value is BearerTokenProvider | TokenCredentialLike {
  return (
    typeof value === 'function' ||
    (typeof value === 'object' && value !== null && typeof (value as { getToken?: unknown }).getToken === 'function')
  );
}
