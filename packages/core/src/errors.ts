/**
 * Every failure Tessera's libraries raise is a `TesseraError` carrying one of these stable codes.
 * Codes never change meaning; messages may be reworded. Messages never contain a token, key or signature.
 */
export type TesseraErrorCode =
  // request validation
  | 'ERR_VALIDATION'
  | 'ERR_UNSUPPORTED_API_VERSION'
  | 'ERR_BODY_MALFORMED'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_NOT_FOUND_ROUTE'
  | 'ERR_METHOD_NOT_ALLOWED'
  // identities
  | 'ERR_IDENTITY_NOT_OWNED'
  | 'ERR_IDENTITY_NOT_FOUND'
  | 'ERR_IDENTITY_DELETED'
  | 'ERR_IDENTIFIER_INVALID'
  // caller authentication (HMAC / bearer)
  | 'ERR_AUTH_MISSING'
  | 'ERR_AUTH_MALFORMED'
  | 'ERR_AUTH_UNSUPPORTED_SCHEME'
  | 'ERR_AUTH_MISSING_HEADER'
  | 'ERR_AUTH_DATE_INVALID'
  | 'ERR_AUTH_DATE_OUT_OF_RANGE'
  | 'ERR_AUTH_CONTENT_HASH_MISMATCH'
  | 'ERR_AUTH_SIGNATURE_MISMATCH'
  | 'ERR_AUTH_HOST_MISMATCH'
  | 'ERR_FORBIDDEN'
  // user access tokens
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_BAD_SIGNATURE'
  | 'ERR_TOKEN_UNKNOWN_KEY'
  | 'ERR_TOKEN_WRONG_ISSUER'
  | 'ERR_TOKEN_WRONG_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_TOKEN_IDENTITY_DELETED'
  | 'ERR_TOKEN_KEY_ROTATED'
  | 'ERR_TOKEN_UNSUPPORTED_VERSION'
  // capabilities
  | 'ERR_CAPABILITY_DENIED'
  | 'ERR_CAPABILITY_UNKNOWN'
  // configuration and infrastructure
  | 'ERR_CONFIG_INVALID'
  | 'ERR_CONNECTION_STRING_INVALID'
  | 'ERR_STORE_UNAVAILABLE'
  // verifier: revocation feed unreachable for longer than the configured bound (fail-closed policy)
  | 'ERR_REVOCATION_STALE'
  | 'ERR_RATE_LIMITED'
  | 'ERR_INTERNAL'
  // client SDK (@tessera/client) only: raised on the caller's side, never sent by the server
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_CIRCUIT_OPEN'
  | 'ERR_UNEXPECTED_RESPONSE'
  | 'ERR_CREDENTIAL_DISPOSED'
  | 'ERR_REFRESH_FAILED'
  | 'ERR_REFRESHED_TOKEN_EXPIRING'
  | 'ERR_TOKEN_REJECTED';

/** Options for {@link TesseraError}. */
export interface TesseraErrorOptions {
  /** The field or setting the error is about (the ACS `target`). */
  target?: string;
  /** Extra machine-readable facts safe to show a caller (never secrets). */
  details?: Readonly<Record<string, string | number | boolean>>;
  cause?: unknown;
}

/** The one error class of Tessera's libraries: a stable `code`, a human message, an optional `target`. */
export class TesseraError extends Error {
  readonly code: TesseraErrorCode;
  readonly target: string | undefined;
  readonly details: Readonly<Record<string, string | number | boolean>> | undefined;

  constructor(code: TesseraErrorCode, message: string, options: TesseraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.target = options.target;
    this.details = options.details;
  }
}

/** True when `value` is a {@link TesseraError}, optionally with the given code. */
export function isTesseraError(value: unknown, code?: TesseraErrorCode): value is TesseraError {
  return value instanceof TesseraError && (code === undefined || value.code === code);
}
