import { TesseraError } from '@tessera/core';
import { type HmacRequest, hmacAuthenticate } from './hmac-authenticate.js';
import type { KeyRing } from './key-ring.js';
import type { Principal } from './principal.js';

/**
 * Authenticates a request to a principal, or throws a 401 `ERR_AUTH_*` error (a bearer token's may reject instead).
 * HMAC is decided synchronously; bearer tokens may wait for the issuer's keys.
 */
export type Authenticator = (request: HmacRequest) => Principal | Promise<Principal>;

/** Validates `Authorization: Bearer <token>` (OIDC); plugged in when trusted issuers are configured. */
export type BearerAuthenticator = (token: string) => Promise<Principal>;

/** Options for {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  readonly keys: KeyRing;
  readonly clock: () => number;
  readonly maxSkewMs: number;
  /** Host of `--public-url`, accepted as the signed host. */
  readonly publicHost?: string | undefined;
  readonly bearer?: BearerAuthenticator | undefined;
}

/** HMAC-SHA256 access keys always; bearer tokens when a bearer authenticator is configured. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  return (request) => {
    const header = request.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    if (value !== undefined && /^bearer\s/i.test(value)) {
      if (options.bearer === undefined) {
        throw new TesseraError(
          'ERR_AUTH_UNSUPPORTED_SCHEME',
          'Bearer authentication is not configured on this server; sign requests with an access key (HMAC-SHA256).',
        );
      }
      return options.bearer(value.replace(/^bearer\s+/i, '').trim());
    }
    const key = hmacAuthenticate(request, {
      keys: options.keys,
      nowMs: options.clock(),
      maxSkewMs: options.maxSkewMs,
      publicHost: options.publicHost,
    });
    return { kind: 'accessKey', key: { name: key.name, version: key.version } };
  };
}
