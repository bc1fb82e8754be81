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

const HEX = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

// An 8-4-4-4-12 hex UUID at `at`: a loop, not a regex, because the verifier runs it on every fresh token and there a
// regex's separate machine code costs several times its own run time in instruction-cache misses (bench/verify.mjs).
function isUuidAt(text: string, at: number): boolean {
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(at + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false; // '-'
    } else if (c > 127 || HEX[c] !== 1) {
      return false;
    }
  }
  return true;
}

/** True when {@link parseRawId} would accept `value`: `8:acs:<uuid>_<uuid>`, nothing allocated. */
export function isRawId(value: string): boolean {
  return (
    value.length === 79 &&
    value.startsWith('8:acs:') &&
    value.charCodeAt(42) === 95 &&
    isUuidAt(value, 6) &&
    isUuidAt(value, 43)
  );
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
