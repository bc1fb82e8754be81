import type { TesseraClientErrorOptions } from './tessera-client-error.js';

/**
 * The codes `@tessera/client` raises on its own side of the wire (never sent by a server), each with one sentence:
 * its meaning and its default message (docs/errors.md is generated from this).
 */
export const CLIENT_ERRORS = {
  ERR_TIMEOUT: 'An attempt, the whole call, or the token refresher timed out.',
  ERR_CIRCUIT_OPEN: "The endpoint's circuit breaker is open.",
  ERR_UNEXPECTED_RESPONSE: 'The server answered something unexpected.',
  ERR_CREDENTIAL_DISPOSED: 'The credential was disposed.',
  ERR_REFRESH_FAILED: 'Refreshing the token failed.',
  ERR_REFRESHED_TOKEN_EXPIRING: 'The refresher returned a token that is already (or about to be) expired.',
  ERR_TOKEN_REJECTED: 'The data plane rejected the token even after one refresh.',
} as const;

/** One code of {@link CLIENT_ERRORS}. */
export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

/**
 * A failure `@tessera/client` detects itself (timeout, open circuit, unexpected answer, credential trouble), with
 * the same call facts as a {@link TesseraClientError}.
 */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly status: number | undefined;
  readonly serviceCode: string | undefined;
  readonly requestId: string | undefined;
  readonly attempts: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly target: string | undefined;
  readonly details: Readonly<Record<string, string | number | boolean>> | undefined;

  /** `message` defaults to the code's one sentence in {@link CLIENT_ERRORS}. */
  constructor(code: ClientErrorCode, message: string = CLIENT_ERRORS[code], options: TesseraClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.status = options.status;
    this.serviceCode = options.serviceCode;
    this.requestId = options.requestId;
    this.attempts = options.attempts;
    this.retryAfterMs = options.retryAfterMs;
    this.target = options.target;
    this.details = options.details;
  }
}

/** True when `value` is a {@link ClientError}, optionally with the given code. */
export function isClientError(value: unknown, code?: ClientErrorCode): value is ClientError {
  return value instanceof ClientError && (code === undefined || value.code === code);
}
