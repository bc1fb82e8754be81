import { TesseraError, type TesseraErrorCode } from '@tessera/core';

/** How one error code answers on the wire: HTTP status and the ACS-style `error.code`. */
export interface WireError {
  readonly status: number;
  readonly acsCode: string;
}

const INTERNAL: WireError = { status: 500, acsCode: 'InternalServerError' };

/**
 * The one place error codes become HTTP statuses (fastify's guide: map codes to status in one place).
 * Codes only clients raise (network, timeout, circuit open…) are absent and would answer 500.
 */
export const WIRE_ERRORS: Readonly<Partial<Record<TesseraErrorCode, WireError>>> = {
  ERR_VALIDATION: { status: 400, acsCode: 'ValidationError' },
  ERR_UNSUPPORTED_API_VERSION: { status: 400, acsCode: 'UnsupportedApiVersion' },
  ERR_BODY_MALFORMED: { status: 400, acsCode: 'InvalidRequestBody' },
  ERR_BODY_TOO_LARGE: { status: 413, acsCode: 'RequestEntityTooLarge' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, acsCode: 'UnsupportedMediaType' },
  ERR_NOT_FOUND_ROUTE: { status: 404, acsCode: 'NotFound' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, acsCode: 'MethodNotAllowed' },
  ERR_IDENTITY_NOT_OWNED: { status: 401, acsCode: 'IdentityNotOwned' },
  ERR_IDENTITY_NOT_FOUND: { status: 404, acsCode: 'IdentityNotFound' },
  ERR_IDENTITY_DELETED: { status: 404, acsCode: 'IdentityDeleted' },
  ERR_IDENTIFIER_INVALID: { status: 400, acsCode: 'ValidationError' },
  ERR_AUTH_MISSING: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_MALFORMED: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_UNSUPPORTED_SCHEME: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_MISSING_HEADER: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_DATE_INVALID: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_DATE_OUT_OF_RANGE: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_CONTENT_HASH_MISMATCH: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_SIGNATURE_MISMATCH: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_HOST_MISMATCH: { status: 401, acsCode: 'Denied' },
  ERR_FORBIDDEN: { status: 403, acsCode: 'Forbidden' },
  ERR_TOKEN_MALFORMED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_BAD_SIGNATURE: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_UNKNOWN_KEY: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_WRONG_ISSUER: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_WRONG_AUDIENCE: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_EXPIRED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_REVOKED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_IDENTITY_DELETED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_KEY_ROTATED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_UNSUPPORTED_VERSION: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_CAPABILITY_DENIED: { status: 403, acsCode: 'Forbidden' },
  ERR_CAPABILITY_UNKNOWN: { status: 400, acsCode: 'ValidationError' },
  ERR_CONFIG_INVALID: { status: 500, acsCode: 'InternalServerError' },
  ERR_CONNECTION_STRING_INVALID: { status: 400, acsCode: 'ValidationError' },
  ERR_STORE_UNAVAILABLE: { status: 503, acsCode: 'ServiceUnavailable' },
  ERR_ISSUER_UNAVAILABLE: { status: 503, acsCode: 'ServiceUnavailable' },
  ERR_REVOCATION_STALE: { status: 503, acsCode: 'ServiceUnavailable' },
  ERR_RATE_LIMITED: { status: 429, acsCode: 'TooManyRequests' },
  ERR_INTERNAL: { status: 500, acsCode: 'InternalServerError' },
};

/** The ACS `CommunicationErrorResponse` body; `innererror.code` carries Tessera's stable code. */
export interface ErrorBody {
  error: { code: string; message: string; target?: string; innererror: { code: string; message: string } };
}

/** Turns any thrown value into status + body. Unknown errors become a generic 500 with no detail leaked. */
export function toWireError(error: unknown): { status: number; body: ErrorBody } {
  const e =
    error instanceof TesseraError
      ? error
      : new TesseraError('ERR_INTERNAL', 'The server could not complete the request.');
  const wire = WIRE_ERRORS[e.code] ?? INTERNAL;
  const body: ErrorBody = {
    error: { code: wire.acsCode, message: e.message, innererror: { code: e.code, message: e.message } },
  };
  if (e.target !== undefined) body.error.target = e.target;
  return { status: wire.status, body };
}
