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

// An 8-4-4-4-12 hex UUID at `at`: a loop, not a regex, because raw ids are checked on every issued and every freshly
// verified token, and there a regex's separate machine code costs several times its own run time in instruction-cache
// misses (bench/verify.mjs).
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
  // The issue path parses one id three times (route, ownership, claims): the last answer is kept. Frozen, so sharing
  // it is safe.
  if (last !== undefined && rawId === last.text) return last.parsed;
  if (!isRawId(rawId)) {
    throw new TesseraError('ERR_IDENTIFIER_INVALID', 'Identifier format is invalid.', { target: 'id' });
  }
  // Ids are case-insensitive; the canonical form is lower case so lookups and claims always agree. The prefix and
  // '_' have no case, so the canonical raw id is the whole id lower-cased.
  const canonical = rawId.toLowerCase();
  const parsed = Object.freeze({ rawId: canonical, resourceId: canonical.slice(6, 42), userId: canonical.slice(43) });
  last = { text: rawId, parsed };
  return parsed;
}

let last: { readonly text: string; readonly parsed: CommunicationUserId } | undefined;
