import { type AuthorizeResult, type Capability, TesseraError, isTesseraError } from '@tessera/core';

/**
 * An HTTP error answer: status, headers and the ACS `CommunicationErrorResponse` body the identity server also
 * uses — `error.code` the ACS-style code, `error.innererror.code` Tessera's stable `ERR_*` code.
 */
export interface HttpErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    readonly error: {
      readonly code: string;
      readonly message: string;
      readonly target?: string;
      readonly innererror: { readonly code: string; readonly message: string };
    };
  };
}

const INTERNAL_MESSAGE = 'The server could not complete the request.';

function body(acsCode: string, code: string, message: string, target?: string): HttpErrorResponse['body'] {
  return {
    error: {
      code: acsCode,
      message,
      ...(target === undefined ? {} : { target }),
      innererror: { code, message },
    },
  };
}

// RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
function quoted(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');
}

/** The refusal of an {@link AuthorizeResult} as a `TesseraError` (`ERR_CAPABILITY_DENIED` / `_UNKNOWN`). */
export function capabilityError(result: AuthorizeResult, capability: Capability | string): TesseraError {
  if (result.allowed) throw new TypeError('capabilityError() called with an allowed result');
  return new TesseraError(result.code, result.message, {
    target: String(capability).slice(0, 64),
    details: {
      capability: String(capability).slice(0, 64),
      reason: result.reason,
      allowedBy: result.allowedBy.join(' '),
    },
  });
}

/**
 * Maps a verifier or authorization failure to its HTTP answer, in one place:
 * - no credentials / another scheme → 401 `WWW-Authenticate: Bearer`; malformed header → 400 `invalid_request`;
 * - any `ERR_TOKEN_*` → 401 `WWW-Authenticate: Bearer error="invalid_token", error_description="…"`;
 * - `ERR_CAPABILITY_DENIED` → 403, with `error="insufficient_scope"` and `scope="…"` when a scope is missing;
 * - `ERR_REVOCATION_STALE`, `ERR_STORE_UNAVAILABLE` → 503 with `Retry-After`;
 * - anything else → 500 `ERR_INTERNAL` (the original message is not exposed).
 */
export function errorResponse(error: unknown): HttpErrorResponse {
  if (!isTesseraError(error)) {
    return { status: 500, headers: {}, body: body('InternalServerError', 'ERR_INTERNAL', INTERNAL_MESSAGE) };
  }
  const { code, message, target } = error;
  if (code === 'ERR_AUTH_MISSING' || code === 'ERR_AUTH_UNSUPPORTED_SCHEME') {
    return { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: body('Denied', code, message) };
  }
  if (code === 'ERR_AUTH_MALFORMED') {
    return {
      status: 400,
      headers: { 'www-authenticate': `Bearer error="invalid_request", error_description="${quoted(message)}"` },
      body: body('Denied', code, message),
    };
  }
  if (code.startsWith('ERR_TOKEN_')) {
    return {
      status: 401,
      headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${quoted(message)}"` },
      body: body('InvalidAccessToken', code, message),
    };
  }
  if (code === 'ERR_CAPABILITY_DENIED') {
    const b = body('Forbidden', code, message, target);
    if (error.details?.reason !== 'scope') return { status: 403, headers: {}, body: b };
    const scopes = error.details?.allowedBy;
    const scopeParam = typeof scopes === 'string' && scopes !== '' ? `, scope="${quoted(scopes)}"` : '';
    return {
      status: 403,
      headers: {
        'www-authenticate': `Bearer error="insufficient_scope", error_description="${quoted(message)}"${scopeParam}`,
      },
      body: b,
    };
  }
  if (code === 'ERR_REVOCATION_STALE' || code === 'ERR_STORE_UNAVAILABLE') {
    return { status: 503, headers: { 'retry-after': '5' }, body: body('ServiceUnavailable', code, message) };
  }
  return { status: 500, headers: {}, body: body('InternalServerError', 'ERR_INTERNAL', INTERNAL_MESSAGE) };
}

/** {@link errorResponse} as a fetch `Response` with a JSON body. */
export function errorToResponse(error: unknown): Response {
  const r = errorResponse(error);
  return new Response(JSON.stringify(r.body), {
    status: r.status,
    headers: { ...r.headers, 'content-type': 'application/json' },
  });
}
