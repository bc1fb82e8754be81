/**
 * The protocol codes: a `TesseraError` carries one of these stable codes, each with one sentence: its meaning and
 * its default message (docs/errors.md is generated from this). Codes never change meaning; messages may be
 * reworded. Messages never contain a token, key or signature. How a package answers a code on the wire lives in
 * that package's table; codes only one package raises live there too (token service, client, chat), not here.
 */
export const ERROR_CODES = {
  ERR_VALIDATION: 'A request field is missing or out of range; `target` names it.',
  ERR_UNSUPPORTED_API_VERSION: 'The api-version is missing, unknown, or lacks this operation.',
  ERR_BODY_MALFORMED: 'The request body is not JSON, or not a JSON object.',
  ERR_BODY_TOO_LARGE: 'The request body is larger than `--body-limit`.',
  ERR_UNSUPPORTED_MEDIA_TYPE: 'The request content type is not accepted.',
  ERR_NOT_FOUND_ROUTE: 'No route matches the method and path.',
  ERR_METHOD_NOT_ALLOWED: 'The route exists but not for this method.',
  ERR_IDENTITY_NOT_OWNED: 'The identity belongs to another resource.',
  ERR_IDENTITY_NOT_FOUND: 'No identity has this id.',
  ERR_IDENTITY_DELETED: 'The identity was deleted.',
  ERR_IDENTIFIER_INVALID: 'The id is not of the form `8:acs:<resourceId>_<uuid>`.',
  ERR_AUTH_MISSING: 'No `Authorization` header.',
  ERR_AUTH_MALFORMED: 'The `Authorization` header or its `SignedHeaders` are malformed.',
  ERR_AUTH_UNSUPPORTED_SCHEME: 'The authorization scheme is not accepted here.',
  ERR_AUTH_MISSING_HEADER: 'A signed header (`x-ms-date`, `host`, `x-ms-content-sha256`) is missing.',
  ERR_AUTH_DATE_INVALID: '`x-ms-date` is not an RFC 1123 date.',
  ERR_AUTH_DATE_OUT_OF_RANGE: '`x-ms-date` is outside the replay window (`--max-clock-skew`).',
  ERR_AUTH_CONTENT_HASH_MISMATCH: '`x-ms-content-sha256` is not the SHA-256 of the body.',
  ERR_AUTH_SIGNATURE_MISMATCH: 'The HMAC signature matches no access key.',
  ERR_AUTH_HOST_MISMATCH: 'The signed host does not match.',
  ERR_FORBIDDEN: 'The caller is authenticated but lacks the data action named in the message.',
  ERR_TOKEN_MALFORMED: 'The access token is malformed.',
  ERR_TOKEN_BAD_SIGNATURE: 'The access token signature is invalid.',
  ERR_TOKEN_UNKNOWN_KEY: 'The access token was signed with a key this verifier does not know.',
  ERR_TOKEN_WRONG_ISSUER: "The token's issuer is not trusted.",
  ERR_TOKEN_WRONG_AUDIENCE: 'The token is meant for another audience.',
  ERR_TOKEN_EXPIRED: 'The access token has expired.',
  ERR_TOKEN_NOT_YET_VALID: 'The access token is not valid yet.',
  ERR_TOKEN_REVOKED: 'The access token has been revoked.',
  ERR_TOKEN_IDENTITY_DELETED: 'The identity of the access token has been deleted.',
  ERR_TOKEN_KEY_ROTATED: 'The access key that minted the access token has been regenerated.',
  ERR_TOKEN_UNSUPPORTED_VERSION: 'The access token contract version is not supported.',
  ERR_CAPABILITY_DENIED: "The token's scopes do not allow the capability.",
  ERR_CAPABILITY_UNKNOWN: 'The capability name is unknown.',
  ERR_CONFIG_INVALID: 'A setting is invalid; `target` names it.',
  ERR_CONNECTION_STRING_INVALID: 'The connection string is malformed.',
  ERR_STORE_UNAVAILABLE: 'The store (or the server) cannot be reached.',
  ERR_ISSUER_UNAVAILABLE:
    "A trusted OpenID Connect issuer's discovery document or JWKS could not be fetched; see `Retry-After`.",
  ERR_REVOCATION_STALE: 'Verifier: the revocation feed has been unreachable longer than the bound (fail closed).',
  ERR_RATE_LIMITED: 'Too many requests for this credential and operation; see `Retry-After`.',
  ERR_INTERNAL: 'An unexpected server error (never carries details).',
  ERR_NETWORK: 'The request did not reach the server (raised by `@tessera/client` and the CLI, never sent).',
} as const;

/** One stable error code. */
export type TesseraErrorCode = keyof typeof ERROR_CODES;

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

  /** `message` defaults to the code's one sentence in {@link ERROR_CODES}. */
  constructor(code: TesseraErrorCode, message: string = ERROR_CODES[code], options: TesseraErrorOptions = {}) {
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
