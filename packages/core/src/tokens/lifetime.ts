import { TesseraError } from '../errors.js';

/** Shortest user access token lifetime in minutes. */
export const MIN_TOKEN_MINUTES = 60;
/** Longest user access token lifetime in minutes, and the default. */
export const MAX_TOKEN_MINUTES = 1440;

/**
 * Validates `expiresInMinutes` as the service does: missing or null → 1440; otherwise an integer in
 * [60, 1440] or `ValidationError` "ExpiresInMinutes value N is invalid. Value must be within the [60, 1440] interval."
 */
export function parseExpiresInMinutes(value: unknown): number {
  if (value === undefined || value === null) return MAX_TOKEN_MINUTES;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TesseraError('ERR_VALIDATION', 'ExpiresInMinutes: The value is not a valid integer.', {
      target: 'ExpiresInMinutes',
    });
  }
  if (value < MIN_TOKEN_MINUTES || value > MAX_TOKEN_MINUTES) {
    throw new TesseraError(
      'ERR_VALIDATION',
      `ExpiresInMinutes value ${value} is invalid. Value must be within the [${MIN_TOKEN_MINUTES}, ${MAX_TOKEN_MINUTES}] interval.`,
      { target: 'ExpiresInMinutes' },
    );
  }
  return value;
}

/** Longest accepted customId, in characters. */
export const MAX_CUSTOM_ID_LENGTH = 256;

/** Validates an optional `customId` (1..256 characters); null/missing → undefined. */
export function parseCustomId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new TesseraError('ERR_VALIDATION', 'CustomId: The CustomId field must be a string.', { target: 'customId' });
  }
  if (value.length < 1 || value.length > MAX_CUSTOM_ID_LENGTH) {
    throw new TesseraError(
      'ERR_VALIDATION',
      `CustomId length ${value.length} is invalid. Length must be within the [1, ${MAX_CUSTOM_ID_LENGTH}] interval.`,
      { target: 'customId' },
    );
  }
  return value;
}
