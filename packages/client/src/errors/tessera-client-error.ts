import { TesseraError, type TesseraErrorCode } from '@tessera/core';

/** Options for {@link TesseraClientError}: what the client knows about the failed call. */
export interface TesseraClientErrorOptions {
  /** HTTP status of the last response, when there was one. */
  status?: number;
  /** The service's own `error.code` (ACS style, e.g. `IdentityNotOwned`), verbatim. */
  serviceCode?: string;
  /** The `x-ms-client-request-id` the client sent (one per logical call, reused across retries). */
  requestId?: string;
  /** Attempts made before giving up. */
  attempts?: number;
  /** How long the server asked the client to wait (429/503 `Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The field or setting the error is about (the ACS `target`). */
  target?: string;
  details?: Readonly<Record<string, string | number | boolean>>;
  cause?: unknown;
}

/**
 * The error every `@tessera/client` call rejects with: a stable Tessera `code` (a {@link TesseraError}, so
 * `isTesseraError(e, 'ERR_IDENTITY_NOT_FOUND')` works) plus the HTTP status, the service's error code and
 * the request id to quote when asking the operator.
 */
export class TesseraClientError extends TesseraError {
  readonly status: number | undefined;
  readonly serviceCode: string | undefined;
  readonly requestId: string | undefined;
  readonly attempts: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: TesseraErrorCode, message: string, options: TesseraClientErrorOptions = {}) {
    const base: { target?: string; details?: Readonly<Record<string, string | number | boolean>>; cause?: unknown } =
      {};
    if (options.target !== undefined) base.target = options.target;
    if (options.details !== undefined) base.details = options.details;
    if (options.cause !== undefined) base.cause = options.cause;
    super(code, message, base);
    this.name = 'TesseraClientError';
    this.status = options.status;
    this.serviceCode = options.serviceCode;
    this.requestId = options.requestId;
    this.attempts = options.attempts;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True when `value` is a {@link TesseraClientError}, optionally with the given code. */
export function isTesseraClientError(value: unknown, code?: TesseraErrorCode): value is TesseraClientError {
  return value instanceof TesseraClientError && (code === undefined || value.code === code);
}
