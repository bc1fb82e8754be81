import { isTesseraError, type TesseraErrorCode } from '@tessera/core';

/** One row of {@link ROOMS_ERRORS}: how a code answers on the wire. */
export interface RoomsWireError {
  /** HTTP status. */
  readonly status: number;
  /** The ACS `error.code` (also sent as `x-ms-error-code`). */
  readonly acsCode: string;
  /** The default message, as the Rooms service words it where its recordings show it. Never a token or key. */
  readonly message: string;
}

/** The message ACS gives every 400 that carries `details` (Rooms recordings). */
export const ROOMS_MALFORMED_MESSAGE = 'The request could not be understood by the server due to malformed syntax.';

/**
 * The Rooms error table: the one place its codes become HTTP statuses, ACS `error.code`s and messages
 * (docs/rooms.md lists every row; a test holds the two equal). Messages follow the Rooms service's own, taken from
 * the official SDKs' recorded responses.
 */
export const ROOMS_ERRORS = {
  ERR_ROOMS_API_VERSION: {
    status: 400,
    acsCode: 'UnsupportedApiVersion',
    message: 'The api-version query parameter is missing or not one the Rooms API supports.',
  },
  ERR_ROOMS_BODY_MALFORMED: { status: 400, acsCode: 'BadRequest', message: ROOMS_MALFORMED_MESSAGE },
  ERR_ROOMS_VALIDATION: { status: 400, acsCode: 'BadRequest', message: ROOMS_MALFORMED_MESSAGE },
  ERR_ROOMS_ROOM_ID_INVALID: { status: 400, acsCode: 'BadRequest', message: 'Invalid room ID length.' },
  ERR_ROOMS_IDENTIFIER_INVALID: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'Invalid format for communication identifier.',
  },
  ERR_ROOMS_PARTICIPANTS_INVALID: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'Invalid value for the Participants.',
  },
  ERR_ROOMS_TOO_MANY_PARTICIPANTS: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'A room has too many participants.',
  },
  ERR_ROOMS_REPEATABILITY_INVALID: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'Repeatability-Request-ID must be a UUID sent with an IMF-fixdate Repeatability-First-Sent.',
  },
  ERR_ROOMS_REPEATABILITY_CONFLICT: {
    status: 409,
    acsCode: 'Conflict',
    message: 'The Repeatability-Request-ID was already used with a different request.',
  },
  ERR_ROOMS_NOT_FOUND: { status: 404, acsCode: 'NotFound', message: 'The server cannot find the requested resource.' },
  ERR_ROOMS_BODY_TOO_LARGE: {
    status: 413,
    acsCode: 'RequestEntityTooLarge',
    message: 'The request body is too large.',
  },
  ERR_ROOMS_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    acsCode: 'UnsupportedMediaType',
    message: 'The request content type is not accepted; send application/json.',
  },
  ERR_ROOMS_INTERNAL: {
    status: 500,
    acsCode: 'InternalServerError',
    message: 'The rooms service could not complete the request.',
  },
} as const satisfies Record<string, RoomsWireError>;

/** One code of {@link ROOMS_ERRORS}. */
export type RoomsErrorCode = keyof typeof ROOMS_ERRORS;

/** One entry of an ACS error's `details`: what argument is wrong and why. */
export interface RoomsErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target: string;
}

/** Options of {@link RoomsError}. */
export interface RoomsErrorOptions {
  /** Replaces the table's sentence (never a token or key). */
  readonly message?: string | undefined;
  readonly target?: string | undefined;
  /** ACS `details` (`BadArgument` items naming the field). */
  readonly details?: readonly RoomsErrorDetail[] | undefined;
  /** Extra response headers (e.g. `Repeatability-Result`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly cause?: unknown;
}

/** The error every Rooms operation throws: a code of {@link ROOMS_ERRORS}, with optional target and details. */
export class RoomsError extends Error {
  readonly code: RoomsErrorCode;
  readonly target: string | undefined;
  readonly details: readonly RoomsErrorDetail[] | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: RoomsErrorCode, options: RoomsErrorOptions = {}) {
    super(
      options.message ?? ROOMS_ERRORS[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'RoomsError';
    this.code = code;
    this.target = options.target;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** A 400 `BadRequest` with one `BadArgument` detail, as the Rooms service reports a wrong field. */
export function badArgument(target: string, message: string): RoomsError {
  return new RoomsError('ERR_ROOMS_VALIDATION', { details: [{ code: 'BadArgument', message, target }] });
}

/** The ACS `CommunicationErrorResponse` body, with Tessera's stable code in `innererror`. */
export interface RoomsErrorBody {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: RoomsErrorDetail[];
    innererror: { code: string; message: string };
  };
}

/** An HTTP error answer. */
export interface RoomsErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RoomsErrorBody;
}

/** How the Tessera codes a Rooms request can meet (authentication, store) answer. */
const TESSERA_WIRE: Partial<Record<TesseraErrorCode, { status: number; acsCode: string }>> = {
  ERR_AUTH_MISSING: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_MALFORMED: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_UNSUPPORTED_SCHEME: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_MISSING_HEADER: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_DATE_INVALID: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_DATE_OUT_OF_RANGE: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_CONTENT_HASH_MISMATCH: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_SIGNATURE_MISMATCH: { status: 401, acsCode: 'Denied' },
  ERR_AUTH_HOST_MISMATCH: { status: 401, acsCode: 'Denied' },
  ERR_TOKEN_MALFORMED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_BAD_SIGNATURE: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_UNKNOWN_KEY: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_WRONG_ISSUER: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_WRONG_AUDIENCE: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_EXPIRED: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, acsCode: 'InvalidAccessToken' },
  ERR_FORBIDDEN: { status: 403, acsCode: 'Forbidden' },
  ERR_ISSUER_UNAVAILABLE: { status: 503, acsCode: 'ServiceUnavailable' },
  ERR_STORE_UNAVAILABLE: { status: 503, acsCode: 'ServiceUnavailable' },
  ERR_REVOCATION_STALE: { status: 503, acsCode: 'ServiceUnavailable' },
};

/**
 * Turns anything thrown into its HTTP answer: a {@link RoomsError} by the table, an authentication failure
 * (`ERR_AUTH_*`, a bearer token's `ERR_TOKEN_*`) as 401 `Denied` / `InvalidAccessToken`, anything else a bare 500.
 * `x-ms-error-code` carries the ACS code, as the service sends it.
 */
export function toRoomsErrorResponse(error: unknown): RoomsErrorResponse {
  if (error instanceof RoomsError) {
    const row = ROOMS_ERRORS[error.code];
    const body: RoomsErrorBody = {
      error: { code: row.acsCode, message: error.message, innererror: { code: error.code, message: error.message } },
    };
    if (error.target !== undefined) body.error.target = error.target;
    if (error.details !== undefined) body.error.details = error.details.map((d) => ({ ...d }));
    return { status: row.status, headers: { 'x-ms-error-code': row.acsCode, ...error.headers }, body };
  }
  if (isTesseraError(error)) {
    const wire = TESSERA_WIRE[error.code];
    if (wire !== undefined) {
      const body: RoomsErrorBody = {
        error: { code: wire.acsCode, message: error.message, innererror: { code: error.code, message: error.message } },
      };
      if (error.target !== undefined) body.error.target = error.target;
      return { status: wire.status, headers: { 'x-ms-error-code': wire.acsCode }, body };
    }
  }
  return toRoomsErrorResponse(new RoomsError('ERR_ROOMS_INTERNAL'));
}
