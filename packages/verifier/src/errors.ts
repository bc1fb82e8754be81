import { TesseraError, type TesseraErrorCode } from '@tessera/core';

// One place for the verifier's messages: fixed sentences, never a token, key or signature.
const MESSAGES = {
  ERR_TOKEN_MALFORMED: 'The access token is malformed.',
  ERR_TOKEN_BAD_SIGNATURE: 'The access token signature is invalid.',
  ERR_TOKEN_UNKNOWN_KEY: 'The access token was signed with a key this verifier does not know.',
  ERR_TOKEN_WRONG_ISSUER: 'The access token was issued by another issuer.',
  ERR_TOKEN_WRONG_AUDIENCE: 'The access token is meant for another audience.',
  ERR_TOKEN_EXPIRED: 'The access token has expired.',
  ERR_TOKEN_NOT_YET_VALID: 'The access token is not valid yet.',
  ERR_TOKEN_REVOKED: 'The access token has been revoked.',
  ERR_TOKEN_IDENTITY_DELETED: 'The identity of the access token has been deleted.',
  ERR_TOKEN_KEY_ROTATED: 'The access key that minted the access token has been regenerated.',
  ERR_TOKEN_UNSUPPORTED_VERSION: 'The access token contract version is not supported.',
  ERR_REVOCATION_STALE: 'Revocation state is stale: the revocation feed has been unreachable for too long.',
  ERR_STORE_UNAVAILABLE: 'The identity server could not be reached for its keys.',
} as const satisfies Partial<Record<TesseraErrorCode, string>>;

/** A verifier failure with its fixed message. */
export function verifierError(
  code: keyof typeof MESSAGES,
  options: { detail?: string; cause?: unknown; details?: Record<string, string | number | boolean> } = {},
): TesseraError {
  const message = options.detail === undefined ? MESSAGES[code] : `${MESSAGES[code].slice(0, -1)}: ${options.detail}.`;
  return new TesseraError(code, message, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.details === undefined ? {} : { details: options.details }),
  });
}
