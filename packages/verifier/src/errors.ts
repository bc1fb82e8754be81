import { ERROR_CODES, TesseraError, type TesseraErrorCode } from '@tessera/core';

/** The codes the verifier raises; each with core's one sentence (`ERROR_CODES`), never a token, key or signature. */
const VERIFIER_CODES = [
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_BAD_SIGNATURE',
  'ERR_TOKEN_UNKNOWN_KEY',
  'ERR_TOKEN_WRONG_ISSUER',
  'ERR_TOKEN_WRONG_AUDIENCE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_NOT_YET_VALID',
  'ERR_TOKEN_REVOKED',
  'ERR_TOKEN_IDENTITY_DELETED',
  'ERR_TOKEN_KEY_ROTATED',
  'ERR_TOKEN_UNSUPPORTED_VERSION',
  'ERR_REVOCATION_STALE',
  'ERR_STORE_UNAVAILABLE',
] as const satisfies readonly TesseraErrorCode[];

// The verifier's own wording where core's sentence speaks of the server side.
const MESSAGES: Readonly<Record<(typeof VERIFIER_CODES)[number], string>> = {
  ...(Object.fromEntries(VERIFIER_CODES.map((c) => [c, ERROR_CODES[c]])) as Record<
    (typeof VERIFIER_CODES)[number],
    string
  >),
  ERR_REVOCATION_STALE: 'Revocation state is stale: the revocation feed has been unreachable for too long.',
  ERR_STORE_UNAVAILABLE: 'The identity server could not be reached for its keys.',
};

/** A verifier failure with its fixed message. */
export function verifierError(
  code: (typeof VERIFIER_CODES)[number],
  options: { detail?: string; cause?: unknown; details?: Record<string, string | number | boolean> } = {},
): TesseraError {
  const message = options.detail === undefined ? MESSAGES[code] : `${MESSAGES[code].slice(0, -1)}: ${options.detail}.`;
  return new TesseraError(code, message, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.details === undefined ? {} : { details: options.details }),
  });
}
