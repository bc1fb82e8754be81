import type { TesseraErrorCode } from '@tessera/core';
import { CLIENT_ERRORS, ClientError, type ClientErrorCode } from './client-error.js';
import { TesseraClientError } from './tessera-client-error.js';

/**
 * True when `value` looks like one of Tessera's stable error codes (`ERR_` + upper-case words). A shape
 * check rather than a list, so a newer server's new code still reaches the caller unchanged.
 */
export function isTesseraErrorCode(value: unknown): value is TesseraErrorCode {
  return typeof value === 'string' && /^ERR_[A-Z0-9]+(?:_[A-Z0-9]+)*$/.test(value);
}

// The real ACS service sends only its own codes (docs/spec/wire-protocol.md §1.5); Tessera adds its code as innererror.code.
const ACS_CODES: Readonly<Record<string, TesseraErrorCode>> = {
  validationerror: 'ERR_VALIDATION',
  unsupportedapiversion: 'ERR_UNSUPPORTED_API_VERSION',
  invalidrequestbody: 'ERR_BODY_MALFORMED',
  identitynotowned: 'ERR_IDENTITY_NOT_OWNED',
  identitynotfound: 'ERR_IDENTITY_NOT_FOUND',
  identitydeleted: 'ERR_IDENTITY_DELETED',
  denied: 'ERR_AUTH_SIGNATURE_MISMATCH',
  forbidden: 'ERR_FORBIDDEN',
  notfound: 'ERR_NOT_FOUND_ROUTE',
  methodnotallowed: 'ERR_METHOD_NOT_ALLOWED',
  toomanyrequests: 'ERR_RATE_LIMITED',
  serviceunavailable: 'ERR_STORE_UNAVAILABLE',
  internalservererror: 'ERR_INTERNAL',
};

function byStatus(status: number): TesseraErrorCode | ClientErrorCode {
  if (status === 400) return 'ERR_VALIDATION';
  if (status === 401 || status === 403) return 'ERR_FORBIDDEN';
  if (status === 404) return 'ERR_NOT_FOUND_ROUTE';
  if (status === 405) return 'ERR_METHOD_NOT_ALLOWED';
  if (status === 408) return 'ERR_TIMEOUT';
  if (status === 413) return 'ERR_BODY_TOO_LARGE';
  if (status === 415) return 'ERR_UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'ERR_RATE_LIMITED';
  if (status === 500) return 'ERR_INTERNAL';
  return 'ERR_UNEXPECTED_RESPONSE';
}

/** The fields of an ACS `CommunicationErrorResponse` the client reads. */
export interface ServiceErrorBody {
  code?: string;
  message?: string;
  target?: string;
  innerCode?: string;
}

/** Reads `{"error":{"code","message","target","innererror":{"code"}}}`; undefined for any other body. */
export function parseServiceErrorBody(body: unknown): ServiceErrorBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const out: ServiceErrorBody = {};
  if (typeof e.code === 'string') out.code = e.code;
  if (typeof e.message === 'string') out.message = e.message;
  if (typeof e.target === 'string') out.target = e.target;
  const inner = e.innererror;
  if (typeof inner === 'object' && inner !== null) {
    const innerCode = (inner as Record<string, unknown>).code;
    if (typeof innerCode === 'string') out.innerCode = innerCode;
  }
  return out;
}

/** Context of a failed response for {@link serviceError}. */
export interface ServiceErrorContext {
  operation: string;
  status: number;
  body: unknown;
  requestId: string;
  attempts: number;
  retryAfterMs?: number | undefined;
  /** Code to use for a bare 404 (e.g. `ERR_IDENTITY_NOT_FOUND` on `/identities/{id}`). */
  notFoundCode?: TesseraErrorCode | undefined;
}

/**
 * Turns an error response into a {@link TesseraClientError}: Tessera's `innererror.code` when present,
 * else the ACS `error.code` mapped to the closest Tessera code, else a code chosen by HTTP status.
 */
export function serviceError(context: ServiceErrorContext): TesseraClientError | ClientError {
  const parsed = parseServiceErrorBody(context.body);
  const acsCode = parsed?.code === undefined ? undefined : ACS_CODES[parsed.code.toLowerCase()];
  let code: TesseraErrorCode | ClientErrorCode;
  if (isTesseraErrorCode(parsed?.innerCode)) code = parsed.innerCode;
  else if (isTesseraErrorCode(parsed?.code)) code = parsed.code;
  else if (acsCode !== undefined) {
    code = acsCode;
    if (code === 'ERR_AUTH_SIGNATURE_MISMATCH' && /content hash|x-ms-content-sha256/i.test(parsed?.message ?? '')) {
      code = 'ERR_AUTH_CONTENT_HASH_MISMATCH';
    }
  } else if (context.status === 404 && context.notFoundCode !== undefined) code = context.notFoundCode;
  else code = byStatus(context.status);
  const detail = parsed?.message ?? `the service answered HTTP ${context.status}`;
  const options = {
    status: context.status,
    ...(parsed?.code === undefined ? {} : { serviceCode: parsed.code }),
    ...(parsed?.target === undefined ? {} : { target: parsed.target }),
    ...(context.retryAfterMs === undefined ? {} : { retryAfterMs: context.retryAfterMs }),
    requestId: context.requestId,
    attempts: context.attempts,
  };
  const message = `${context.operation} failed: ${detail}`;
  return isClientErrorCode(code)
    ? new ClientError(code, message, options)
    : new TesseraClientError(code, message, options);
}

function isClientErrorCode(code: TesseraErrorCode | ClientErrorCode): code is ClientErrorCode {
  return Object.hasOwn(CLIENT_ERRORS, code);
}
