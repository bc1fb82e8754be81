import { isTesseraError } from '@tessera/core';
import { errorResponse } from '@tessera/verifier';

/** One row of {@link CHAT_ERRORS}: how a code answers on the wire. */
export interface ChatWireError {
  /** HTTP status. */
  readonly status: number;
  /** The ACS `error.code`. */
  readonly acsCode: string;
  /** The default message: one sentence, never a token, key or message content. */
  readonly message: string;
}

/**
 * The chat package's error table: the one place its codes become HTTP statuses, ACS `error.code`s and messages
 * (docs/chat.md lists every row; a test holds the two equal). Failures of the token itself (`ERR_TOKEN_*`,
 * `ERR_AUTH_*`, `ERR_CAPABILITY_DENIED`, `ERR_REVOCATION_STALE`) come from `@tessera/verifier` and keep its mapping.
 */
export const CHAT_ERRORS = {
  ERR_CHAT_API_VERSION: {
    status: 400,
    acsCode: 'UnsupportedApiVersion',
    message: 'The api-version query parameter is missing, unknown, or lacks this operation.',
  },
  ERR_CHAT_BODY_MALFORMED: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'The request body is not a JSON object.',
  },
  ERR_CHAT_VALIDATION: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'A request field is missing, of the wrong type or out of range.',
  },
  ERR_CHAT_IDENTIFIER_INVALID: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'Identifier format is invalid.',
  },
  ERR_CHAT_MESSAGE_TOO_LARGE: {
    status: 400,
    acsCode: 'BadRequest',
    message: 'The message content is larger than 28 KB.',
  },
  ERR_CHAT_BODY_TOO_LARGE: {
    status: 413,
    acsCode: 'RequestEntityTooLarge',
    message: 'The request body is too large.',
  },
  ERR_CHAT_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    acsCode: 'UnsupportedMediaType',
    message: 'The request content type is not accepted.',
  },
  ERR_CHAT_NOT_PARTICIPANT: {
    status: 403,
    acsCode: 'Forbidden',
    message: 'Permissions check failed.',
  },
  ERR_CHAT_NOT_SENDER: {
    status: 403,
    acsCode: 'Forbidden',
    message: 'Only the sender of a message may change or delete it.',
  },
  ERR_CHAT_MESSAGE_NOT_FOUND: {
    status: 404,
    acsCode: 'NotFound',
    message: 'The chat message does not exist.',
  },
  ERR_CHAT_PARTICIPANT_NOT_FOUND: {
    status: 404,
    acsCode: 'NotFound',
    message: 'The participant is not in the chat thread.',
  },
  ERR_CHAT_ROUTE_NOT_FOUND: {
    status: 404,
    acsCode: 'NotFound',
    message: 'No chat route matches the method and path.',
  },
  ERR_CHAT_REPEATABILITY_CONFLICT: {
    status: 409,
    acsCode: 'Conflict',
    message: 'The repeatability-request-id was already used with a different request.',
  },
  ERR_CHAT_STORE_UNAVAILABLE: {
    status: 503,
    acsCode: 'ServiceUnavailable',
    message: 'The chat store cannot be reached; try again later.',
  },
  ERR_CHAT_DEMO_UNAVAILABLE: {
    status: 503,
    acsCode: 'ServiceUnavailable',
    message: 'The chat demo page needs esbuild and the repository sources (npm install).',
  },
  ERR_CHAT_INTERNAL: {
    status: 500,
    acsCode: 'InternalServerError',
    message: 'The chat service could not complete the request.',
  },
} as const satisfies Record<string, ChatWireError>;

/** One code of {@link CHAT_ERRORS}. */
export type ChatErrorCode = keyof typeof CHAT_ERRORS;

/** Options of {@link ChatError}. */
export interface ChatErrorOptions {
  /** Replaces the table's sentence (still never a token or message content). */
  message?: string;
  /** The field, header or identifier the error is about. */
  target?: string;
  cause?: unknown;
}

/** The error every chat operation throws: a code of {@link CHAT_ERRORS} with an optional target. */
export class ChatError extends Error {
  readonly code: ChatErrorCode;
  readonly target: string | undefined;

  constructor(code: ChatErrorCode, options: ChatErrorOptions = {}) {
    super(
      options.message ?? CHAT_ERRORS[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ChatError';
    this.code = code;
    this.target = options.target;
  }

  /** The HTTP status this error answers with. */
  get status(): number {
    return CHAT_ERRORS[this.code].status;
  }
}

/** True when `value` is a {@link ChatError}, optionally with the given code. */
export function isChatError(value: unknown, code?: ChatErrorCode): value is ChatError {
  return value instanceof ChatError && (code === undefined || value.code === code);
}

/**
 * The ACS `CommunicationErrorResponse` body: `error.code` the ACS code, `innererror.code` Tessera's stable code
 * (as the identity server and the verifier answer).
 */
export interface ChatErrorBody {
  error: { code: string; message: string; target?: string; innererror: { code: string; message: string } };
}

/** An HTTP error answer: status, extra headers and body. */
export interface ChatErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ChatErrorBody;
}

/**
 * Turns anything thrown into its HTTP answer: a {@link ChatError} by the table, a verifier/authorization failure
 * by the verifier's own mapping (401/403/503 with `WWW-Authenticate`), anything else a bare 500 with no detail.
 */
export function toChatErrorResponse(error: unknown): ChatErrorResponse {
  if (error instanceof ChatError) {
    const row = CHAT_ERRORS[error.code];
    const body: ChatErrorBody = {
      error: { code: row.acsCode, message: error.message, innererror: { code: error.code, message: error.message } },
    };
    if (error.target !== undefined) body.error.target = error.target;
    return { status: row.status, headers: {}, body };
  }
  if (isTesseraError(error)) {
    const r = errorResponse(error);
    if (r.status !== 500) {
      const { target } = r.body.error;
      const body: ChatErrorBody = {
        error: {
          code: r.body.error.code,
          message: r.body.error.message,
          innererror: { code: r.body.error.innererror.code, message: r.body.error.innererror.message },
        },
      };
      if (target !== undefined) body.error.target = target;
      return { status: r.status, headers: r.headers, body };
    }
  }
  return toChatErrorResponse(new ChatError('ERR_CHAT_INTERNAL'));
}
