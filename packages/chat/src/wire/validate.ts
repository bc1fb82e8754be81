import { isRawId } from '@tessera/core';
import { ChatError } from '../errors.js';

/** A JSON object body, as a record; `ERR_CHAT_BODY_MALFORMED` for anything else. */
export function bodyObject(body: unknown, required = true): Record<string, unknown> {
  if (body === undefined || body === null) {
    if (!required) return {};
    throw new ChatError('ERR_CHAT_BODY_MALFORMED');
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new ChatError('ERR_CHAT_BODY_MALFORMED');
  return body as Record<string, unknown>;
}

/** `ERR_CHAT_VALIDATION` about one field. */
export function invalid(target: string, message: string): ChatError {
  return new ChatError('ERR_CHAT_VALIDATION', { target, message });
}

/** Length of a string in UTF-8 bytes. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** An optional string field no longer than `maxChars` characters. */
export function optionalString(
  source: Record<string, unknown>,
  field: string,
  maxChars: number,
  target = field,
): string | undefined {
  const value = source[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(target, `'${target}' must be a string.`);
  if (value.length > maxChars) throw invalid(target, `'${target}' is longer than ${maxChars} characters.`);
  if (value.includes('\u0000')) throw invalid(target, `'${target}' must not contain NUL characters.`);
  return value;
}

/** A required string field (may be required non-empty). */
export function requiredString(
  source: Record<string, unknown>,
  field: string,
  maxChars: number,
  options: { nonEmpty?: boolean; target?: string } = {},
): string {
  const target = options.target ?? field;
  const value = optionalString(source, field, maxChars, target);
  if (value === undefined) throw invalid(target, `'${target}' is required.`);
  if (options.nonEmpty === true && value.trim() === '') throw invalid(target, `'${target}' must not be empty.`);
  return value;
}

/**
 * A metadata object of string values no larger than `maxBytes` (keys and values, UTF-8). With `allowNull`
 * (merge-patch), a `null` value means "remove this key".
 */
export function optionalMetadata(
  source: Record<string, unknown>,
  field: string,
  maxBytes: number,
  allowNull = false,
): Record<string, string | null> | undefined {
  const value = source[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(field, `'${field}' must be an object of strings.`);
  const out: Record<string, string | null> = {};
  let bytes = 0;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null && allowNull) {
      out[key] = null;
      continue;
    }
    if (typeof v !== 'string') throw invalid(`${field}.${key.slice(0, 64)}`, `'${field}' values must be strings.`);
    if (v.includes('\u0000') || key.includes('\u0000'))
      throw invalid(field, `'${field}' must not contain NUL characters.`);
    bytes += utf8Length(key) + utf8Length(v);
    out[key] = v;
  }
  if (bytes > maxBytes) throw invalid(field, `'${field}' is larger than ${maxBytes} bytes.`);
  return out;
}

/** Parses an RFC 3339 date-time to Unix ms; `ERR_CHAT_VALIDATION` naming `target` when it is not one. */
export function parseDateTime(value: unknown, target: string): number {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.test(value)
  ) {
    throw invalid(target, `'${target}' must be an RFC 3339 date-time such as 2024-01-31T12:00:00Z.`);
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid(target, `'${target}' is not a valid date-time.`);
  return ms;
}

/** An optional integer query parameter within [min, max]. */
export function queryInt(value: unknown, target: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) {
    throw invalid(target, `'${target}' must be a whole number.`);
  }
  const n = Number(value);
  if (n < min || n > max) throw invalid(target, `'${target}' must be between ${min} and ${max}.`);
  return n;
}

/**
 * The raw id of a `CommunicationIdentifierModel` naming a communication user: `communicationUser.id` and/or
 * `rawId` (equal when both are given). Anything else (phone numbers, Teams users, malformed ids) is
 * `ERR_CHAT_IDENTIFIER_INVALID`. Raw ids are compared in lower case.
 */
export function communicationUserRawId(value: unknown, target: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChatError('ERR_CHAT_IDENTIFIER_INVALID', { target });
  }
  const model = value as Record<string, unknown>;
  const user = model.communicationUser;
  let id: unknown = model.rawId;
  if (user !== undefined && user !== null) {
    if (typeof user !== 'object' || Array.isArray(user)) throw new ChatError('ERR_CHAT_IDENTIFIER_INVALID', { target });
    const userId = (user as Record<string, unknown>).id;
    if (id !== undefined && id !== null && id !== userId)
      throw new ChatError('ERR_CHAT_IDENTIFIER_INVALID', { target });
    id = userId;
  }
  if (model.kind !== undefined && model.kind !== 'communicationUser') {
    throw new ChatError('ERR_CHAT_IDENTIFIER_INVALID', { target });
  }
  if (typeof id !== 'string' || !isRawId(id)) throw new ChatError('ERR_CHAT_IDENTIFIER_INVALID', { target });
  return id.toLowerCase();
}

/** The resource id inside a raw id `8:acs:<resourceId>_<userId>` (lower case). */
export function resourceOfRawId(rawId: string): string {
  return rawId.slice(6, 42).toLowerCase();
}
