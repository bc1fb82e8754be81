import { TesseraError } from '@tessera/core';

/**
 * Parses a JSON request body the way the service accepts it: no body, an empty body, `{}` and explicit
 * nulls are all "nothing given". Anything that is not a JSON object is a 400 with a stable code.
 */
export function parseJsonObject(body: Buffer | undefined): Record<string, unknown> {
  if (body === undefined || body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new TesseraError('ERR_BODY_MALFORMED', 'The request body is not valid JSON.');
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TesseraError('ERR_BODY_MALFORMED', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
