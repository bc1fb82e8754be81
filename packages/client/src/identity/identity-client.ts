import { TesseraError, type TokenScope, normalizeEndpoint, parseConnectionString } from '@tessera/core';
import { HttpPipeline, type ResilienceOptions } from '../http/http-pipeline.js';
import {
  type IdentityClientCredential,
  type RequestAuthenticator,
  bearerAuthenticator,
  hmacAuthenticator,
  isAccessKeyCredential,
  isTokenSource,
} from '../http/request-authenticator.js';
import { systemClock } from '../runtime/clock.js';
import { type CreateUserOptions, createUser } from '../operations/create-user.js';
import { type CreateUserAndTokenOptions, createUserAndToken } from '../operations/create-user-and-token.js';
import { deleteUser } from '../operations/delete-user.js';
import { type GetTokenOptions, getToken } from '../operations/get-token.js';
import { getUser } from '../operations/get-user.js';
import { listKeys } from '../operations/list-keys.js';
import { regenerateKey } from '../operations/regenerate-key.js';
import { revokeTokens } from '../operations/revoke-tokens.js';
import type { ClientContext, OperationOptions } from './client-context.js';
import type {
  AccessKeyName,
  AccessKeys,
  AccessTokenResult,
  CommunicationIdentity,
  UserAndTokenResult,
  UserReference,
} from './models.js';

/** The api-version `IdentityClient` sends by default (the official SDK 1.3.x default). */
export const DEFAULT_API_VERSION = '2023-10-01';
/** The api-version used for calls that need customId / GET identity when the default lacks them. */
export const DEFAULT_PREVIEW_API_VERSION = '2025-03-02-preview';

/** Options of {@link IdentityClient}; the resilience settings apply to every call. */
export interface IdentityClientOptions extends ResilienceOptions {
  /** api-version for ACS routes. Default `2023-10-01`. */
  apiVersion?: string;
  /** api-version for customId / `getUser` when `apiVersion` lacks them. Default `2025-03-02-preview`. */
  previewApiVersion?: string;
  /** Send `Repeatability-Request-ID` + `Repeatability-First-Sent` on creates (makes them retryable). Default true. */
  repeatability?: boolean;
  /** Scopes requested from a `TokenCredential`. Default `https://communication.azure.com//.default`. */
  tokenScopes?: string | string[];
  /** fetch implementation. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Request id / idempotency key generator. Default a random UUID. */
  uuid?: () => string;
}

/**
 * Client of the Tessera / ACS Identity API and Tessera's key admin API. Works in Node 20+ and browsers
 * (fetch + WebCrypto). Every method rejects with a `TesseraClientError` carrying the stable code, HTTP
 * status, the service's error code and the request id.
 *
 * Extension point: each operation is a function in `src/operations/` taking the {@link ClientContext};
 * a new admin surface (e.g. role admin) is one more such file plus a one-line method here.
 */
export class IdentityClient {
  /** `http(s)://host[:port]/`. */
  readonly endpoint: string;
  /** The context operations run with (pipeline, endpoint, api-versions). */
  protected readonly context: ClientContext;

  /** From a connection string `endpoint=...;accesskey=...` (HMAC-SHA256 signing). */
  constructor(connectionString: string, options?: IdentityClientOptions);
  /** From an endpoint and an access key holder, a bearer-token function or a `TokenCredential`. */
  constructor(endpoint: string, credential: IdentityClientCredential, options?: IdentityClientOptions);
  constructor(first: string, second?: IdentityClientCredential | IdentityClientOptions, third?: IdentityClientOptions) {
    let options: IdentityClientOptions;
    let authenticator: RequestAuthenticator;
    if (second !== undefined && (isAccessKeyCredential(second) || isTokenSource(second))) {
      options = third ?? {};
      this.endpoint = normalizeEndpoint(first);
      const clock = options.clock ?? systemClock;
      authenticator = isAccessKeyCredential(second)
        ? hmacAuthenticator(second, clock)
        : bearerAuthenticator(second, options.tokenScopes);
    } else {
      options = (second as IdentityClientOptions | undefined) ?? {};
      const parsed = parseConnectionString(first);
      this.endpoint = parsed.endpoint;
      authenticator = hmacAuthenticator({ key: parsed.accessKey }, options.clock ?? systemClock);
    }
    const repeatability = options.repeatability ?? true;
    if (options.apiVersion === '') {
      throw new TesseraError('ERR_CONFIG_INVALID', 'apiVersion must not be empty.', { target: 'apiVersion' });
    }
    this.context = {
      pipeline: new HttpPipeline({ ...options, authenticator }),
      endpoint: this.endpoint,
      apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
      previewApiVersion: options.previewApiVersion ?? DEFAULT_PREVIEW_API_VERSION,
      repeatability,
    };
  }

  /** Creates an identity; with `customId`, returns the existing identity for that id if there is one. */
  createUser(options?: CreateUserOptions): Promise<CommunicationIdentity> {
    return createUser(this.context, options);
  }

  /** Creates an identity and issues it a token with `scopes`. */
  createUserAndToken(scopes: readonly TokenScope[], options?: CreateUserAndTokenOptions): Promise<UserAndTokenResult> {
    return createUserAndToken(this.context, scopes, options);
  }

  /** Issues a user access token with `scopes` for `user`. */
  getToken(user: UserReference, scopes: readonly TokenScope[], options?: GetTokenOptions): Promise<AccessTokenResult> {
    return getToken(this.context, user, scopes, options);
  }

  /** Reads an identity (customId, lastTokenIssuedAt); uses api-version 2025-03-02-preview. */
  getUser(user: UserReference, options?: OperationOptions): Promise<CommunicationIdentity> {
    return getUser(this.context, user, options);
  }

  /** Revokes every token issued to `user` so far. */
  revokeTokens(user: UserReference, options?: OperationOptions): Promise<void> {
    return revokeTokens(this.context, user, options);
  }

  /** Deletes `user` and revokes its tokens. */
  deleteUser(user: UserReference, options?: OperationOptions): Promise<void> {
    return deleteUser(this.context, user, options);
  }

  /** Tessera admin: the resource's access keys and connection strings (full-control key only). */
  listKeys(options?: OperationOptions): Promise<AccessKeys> {
    return listKeys(this.context, options);
  }

  /** Tessera admin: regenerates the primary or secondary key (never retried). */
  regenerateKey(key: AccessKeyName, options?: OperationOptions): Promise<AccessKeys> {
    return regenerateKey(this.context, key, options);
  }
}
