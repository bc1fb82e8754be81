import { isClientError } from '@tessera/client';
import { isTesseraError } from '@tessera/core';

/**
 * The HTTP status of every code the token service answers with: the one place codes become statuses. Codes shared
 * with the identity server keep core's meaning (`ERROR_CODES`); the token service's own codes carry their one
 * sentence here (docs/errors.md is generated from it).
 */
export const TOKEN_SERVICE_ERRORS = {
  ERR_VALIDATION: { status: 400 },
  ERR_BODY_MALFORMED: { status: 400 },
  ERR_BODY_TOO_LARGE: { status: 413 },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  ERR_NOT_FOUND_ROUTE: { status: 404 },
  ERR_AUTH_MISSING: { status: 401 },
  ERR_AUTH_UNSUPPORTED_SCHEME: { status: 401 },
  ERR_TOKEN_MALFORMED: { status: 401 },
  ERR_TOKEN_BAD_SIGNATURE: { status: 401 },
  ERR_TOKEN_UNKNOWN_KEY: { status: 401 },
  ERR_TOKEN_WRONG_ISSUER: { status: 401 },
  ERR_TOKEN_WRONG_AUDIENCE: { status: 401 },
  ERR_TOKEN_EXPIRED: { status: 401 },
  ERR_TOKEN_NOT_YET_VALID: { status: 401 },
  ERR_SESSION_INVALID: { status: 401, meaning: 'The session secret is unknown, ended, or its tokens already expired.' },
  ERR_POLICY_DENIED: {
    status: 403,
    meaning: 'The request asks for scopes or a lifetime the policy does not grant this user; nothing is widened.',
  },
  ERR_POLICY_NO_MATCH: { status: 403, meaning: 'No policy rule matches this user, so no token is issued.' },
  ERR_ORIGIN_NOT_ALLOWED: {
    status: 403,
    meaning: 'The request comes from a browser origin not on the CORS allow-list.',
  },
  ERR_USER_NOT_MAPPED: {
    status: 404,
    meaning: 'This app user has no communication identity yet (`POST /api/user` creates it).',
  },
  ERR_RATE_LIMITED: { status: 429 },
  ERR_ANONYMOUS_CAP: {
    status: 429,
    meaning: 'This IP address created its hourly quota of guest identities; see `Retry-After`.',
  },
  ERR_ISSUER_UNAVAILABLE: { status: 503 },
  ERR_IDENTITY_SERVER_UNAVAILABLE: {
    status: 503,
    meaning: 'The identity server could not be reached, or is throttling this service.',
  },
  ERR_IDENTITY_SERVER_FAILED: { status: 502, meaning: 'The identity server refused a request the token service made.' },
  ERR_DEMO_UNAVAILABLE: {
    status: 503,
    meaning: 'The demo page is disabled, or `esbuild` is not installed to bundle it.',
  },
  ERR_STORE_UNAVAILABLE: { status: 503 },
  ERR_INTERNAL: { status: 500 },
} as const satisfies Record<string, { status: number; meaning?: string }>;

/** One code the token service answers with: a protocol code of core's, or one of its own. */
export type TokenServiceErrorCode = keyof typeof TOKEN_SERVICE_ERRORS;

/** True when the token service answers `code` as is. */
function isTokenServiceErrorCode(code: string): code is TokenServiceErrorCode {
  return Object.hasOwn(TOKEN_SERVICE_ERRORS, code);
}

/** Options of {@link TokenServiceError}. */
export interface TokenServiceErrorOptions {
  /** The field or setting the error is about. */
  target?: string;
  /** Seconds the caller should wait (429 / 503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * The error every token-service operation throws: a code with an HTTP status in {@link TOKEN_SERVICE_ERRORS}, plus
 * the `Retry-After` to send.
 */
export class TokenServiceError extends Error {
  readonly code: TokenServiceErrorCode;
  readonly target: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: TokenServiceErrorCode, message: string, options: TokenServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenServiceError';
    this.code = code;
    this.target = options.target;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The HTTP status this error answers with. */
  get status(): number {
    return TOKEN_SERVICE_ERRORS[this.code].status;
  }
}

/** True when `value` is a {@link TokenServiceError}, optionally with the given code. */
export function isTokenServiceError(value: unknown, code?: TokenServiceErrorCode): value is TokenServiceError {
  return value instanceof TokenServiceError && (code === undefined || value.code === code);
}

/** The JSON error body: `{"error":{"code","message","target"?}}`. */
export interface TokenServiceErrorBody {
  error: { code: TokenServiceErrorCode; message: string; target?: string };
}

/**
 * Turns anything thrown into status + body + Retry-After. A core `TesseraError` whose code the token service
 * also uses keeps it; an identity-server failure seen through `@tessera/client` becomes 502/503; anything else
 * is a bare 500 with no detail.
 */
export function toErrorResponse(error: unknown): {
  status: number;
  body: TokenServiceErrorBody;
  retryAfterSeconds?: number;
} {
  const e = normalizeError(error);
  const body: TokenServiceErrorBody = { error: { code: e.code, message: e.message } };
  if (e.target !== undefined) body.error.target = e.target;
  return {
    status: e.status,
    body,
    ...(e.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: e.retryAfterSeconds }),
  };
}

const UNAVAILABLE: ReadonlySet<string> = new Set([
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_CIRCUIT_OPEN',
  'ERR_RATE_LIMITED',
  'ERR_STORE_UNAVAILABLE',
]);

/** Maps an error from `@tessera/client` (a call to the identity server) to a token-service error. */
export function identityServerError(error: unknown, operation: string): TokenServiceError {
  if (error instanceof TokenServiceError) return error;
  if (isTesseraError(error) || isClientError(error)) {
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (UNAVAILABLE.has(error.code)) {
      return new TokenServiceError(
        'ERR_IDENTITY_SERVER_UNAVAILABLE',
        `The identity server is unavailable (${operation}: ${error.code}); try again later.`,
        {
          retryAfterSeconds: typeof retryAfterMs === 'number' ? Math.max(1, Math.ceil(retryAfterMs / 1000)) : 5,
          cause: error,
        },
      );
    }
    return new TokenServiceError(
      'ERR_IDENTITY_SERVER_FAILED',
      `The identity server refused ${operation} (${error.code}).`,
      { cause: error },
    );
  }
  return new TokenServiceError('ERR_IDENTITY_SERVER_FAILED', `The identity server call ${operation} failed.`, {
    cause: error,
  });
}

function normalizeError(error: unknown): TokenServiceError {
  if (error instanceof TokenServiceError) return error;
  if (isTesseraError(error) && isTokenServiceErrorCode(error.code)) {
    const retryAfterSeconds = error.details?.retryAfterSeconds;
    return new TokenServiceError(error.code, error.message, {
      ...(error.target === undefined ? {} : { target: error.target }),
      ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
    });
  }
  return new TokenServiceError('ERR_INTERNAL', 'The token service could not complete the request.');
}
