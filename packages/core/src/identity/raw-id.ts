import { TesseraError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The parts of a communication user's raw id `8:acs:<resourceId>_<userId>`. */
export interface CommunicationUserId {
  readonly rawId: string;
  readonly resourceId: string;
  readonly userId: string;
}

/** True for a canonical 8-4-4-4-12 hex UUID. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Builds the raw id of a communication user of `resourceId`. */
export function formatRawId(resourceId: string, userId: string): string {
  return `8:acs:${resourceId}_${userId}`;
}

/**
 * Parses a communication user raw id. Throws `ERR_IDENTIFIER_INVALID` when the text is not of the form
 * `8:acs:<resourceId>_<userId>` with two UUIDs — the identifier's owner is then decided by the caller.
 */
export function parseRawId(rawId: string): CommunicationUserId {
  const match = /^8:acs:([^_]+)_(.+)$/.exec(rawId);
  const resourceId = match?.[1];
  const userId = match?.[2];
  if (resourceId === undefined || userId === undefined || !isUuid(resourceId) || !isUuid(userId)) {
    throw new TesseraError('ERR_IDENTIFIER_INVALID', 'Identifier format is invalid.', { target: 'id' });
  }
  const r = resourceId.toLowerCase();
  const u = userId.toLowerCase();
  // Ids are case-insensitive; the canonical form is lower case so lookups and claims always agree.
  return { rawId: formatRawId(r, u), resourceId: r, userId: u };
}
