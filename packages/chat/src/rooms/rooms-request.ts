import { DEFAULT_ROOM_ROLE, isRawId, isRoomRole, parseHttpDate, parseRawId, type RoomRole } from '@tessera/core';
import { badArgument, RoomsError } from './rooms-errors.js';
import type { RoomParticipantRecord } from './rooms-store.js';

/** The Rooms api-versions Tessera serves, oldest first; `pstnDialOutEnabled` exists from 2024-04-15. */
export const ROOMS_API_VERSIONS = ['2023-06-14', '2024-04-15', '2025-03-13'] as const;

/** One of {@link ROOMS_API_VERSIONS}. */
export type RoomsApiVersion = (typeof ROOMS_API_VERSIONS)[number];

/** The `api-supported-versions` response header. */
export const ROOMS_SUPPORTED_VERSIONS_HEADER = ROOMS_API_VERSIONS.join(', ');

/** The api-version of a request; throws `ERR_ROOMS_API_VERSION` (target `api-version`) otherwise. */
export function parseRoomsApiVersion(value: unknown): RoomsApiVersion {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text === 'string' && (ROOMS_API_VERSIONS as readonly string[]).includes(text)) {
    return text as RoomsApiVersion;
  }
  throw new RoomsError('ERR_ROOMS_API_VERSION', { target: 'api-version' });
}

/** True when the api-version has `pstnDialOutEnabled`. */
export function hasPstnDialOut(version: RoomsApiVersion): boolean {
  return version !== '2023-06-14';
}

/**
 * Checks a room id as the Rooms service does: ACS ids are 16 to 19 digits (a signed 64-bit number); anything of
 * another length answers "Invalid room ID length.", other non-digits "Invalid room ID.".
 */
export function checkRoomId(roomId: string): string {
  if (roomId.length < 16 || roomId.length > 19) throw new RoomsError('ERR_ROOMS_ROOM_ID_INVALID', { target: 'roomId' });
  if (!/^[0-9]+$/.test(roomId)) {
    throw new RoomsError('ERR_ROOMS_ROOM_ID_INVALID', { target: 'roomId', message: 'Invalid room ID.' });
  }
  return roomId;
}

/** The longest a room may stay open, and how far ahead it may open: 180 days (Rooms service). */
export const MAX_ROOM_SPAN_MS = 180 * 86_400_000;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:?\d{2})$/;

function conversion(path: string, type: string): RoomsError {
  return badArgument(path, `The JSON value could not be converted to ${type}. Path: ${path}.`);
}

/** An RFC 3339 date-time field as Unix ms; undefined when absent or null. */
function dateField(body: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'string' && DATE_TIME.test(value) ? Date.parse(value.replace(' ', 'T')) : Number.NaN;
  if (!Number.isFinite(ms)) throw conversion(`$.${name}`, 'DateTimeOffset');
  return ms;
}

function booleanField(body: Readonly<Record<string, unknown>>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw conversion(`$.${name}`, 'Boolean');
  return value;
}

/** The request body as a JSON object; throws `ERR_ROOMS_BODY_MALFORMED` otherwise. An empty body is `{}`. */
export function parseJsonObject(raw: Buffer | undefined): Readonly<Record<string, unknown>> {
  if (raw === undefined || raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RoomsError('ERR_ROOMS_BODY_MALFORMED', {
      details: [{ code: 'BadArgument', message: 'The request body is not valid JSON.', target: '$' }],
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RoomsError('ERR_ROOMS_BODY_MALFORMED', {
      details: [{ code: 'BadArgument', message: 'The request body must be a JSON object.', target: '$' }],
    });
  }
  return value as Record<string, unknown>;
}

/** The validity window and options of a create or update. */
export interface RoomTimes {
  readonly validFrom: number;
  readonly validUntil: number;
}

/**
 * Checks a validity window as the Rooms service does (messages and targets from its recorded answers): it opens
 * at most 180 days from now, closes in the future, after it opens, and spans at most 180 days.
 */
export function checkRoomTimes(times: RoomTimes, now: number): void {
  if (times.validFrom > now + MAX_ROOM_SPAN_MS) {
    throw badArgument('ValidFrom', 'Value is incorrect or more than 180 days in the future.');
  }
  if (times.validUntil <= now) throw badArgument('ValidUntil', 'The time range end is in the past.');
  if (times.validUntil <= times.validFrom || times.validUntil - times.validFrom > MAX_ROOM_SPAN_MS) {
    throw badArgument('ValidUntil', 'The time range is incorrect, or larger than 180 days.');
  }
}

/** Options of the participant parsers. */
export interface ParticipantRules {
  /** When set, participants must be users of this Communication Services resource. */
  readonly resourceId?: string | undefined;
  /** Most participants one request may name. */
  readonly maxParticipants: number;
  /** The error for an unusable identifier: create and update word it differently (Rooms recordings). */
  readonly invalidIdentifier: 'ERR_ROOMS_IDENTIFIER_INVALID' | 'ERR_ROOMS_PARTICIPANTS_INVALID';
}

/** Participants to add or change, and raw ids to remove (`null` values). */
export interface ParticipantChanges {
  readonly upserts: readonly RoomParticipantRecord[];
  readonly removals: readonly string[];
}

/** Parses the `participants` map (`{ "<rawId>": { "role": "Presenter" } | null }`). */
export function parseParticipants(value: unknown, rules: ParticipantRules): ParticipantChanges {
  if (value === undefined || value === null) return { upserts: [], removals: [] };
  if (typeof value !== 'object' || Array.isArray(value)) throw conversion('$.participants', 'a participants map');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > rules.maxParticipants) {
    throw new RoomsError('ERR_ROOMS_TOO_MANY_PARTICIPANTS', {
      message: `A request may name at most ${rules.maxParticipants} participants.`,
      target: 'participants',
    });
  }
  const upserts = new Map<string, RoomRole>();
  const removals = new Set<string>();
  for (const [key, properties] of entries) {
    if (!isRawId(key)) throw new RoomsError(rules.invalidIdentifier, { target: 'participants' });
    const { rawId, resourceId } = parseRawId(key);
    if (rules.resourceId !== undefined && resourceId !== rules.resourceId.toLowerCase()) {
      throw new RoomsError('ERR_ROOMS_PARTICIPANTS_INVALID', {
        message: 'A participant belongs to another Communication Services resource.',
        target: 'participants',
      });
    }
    if (properties === null) {
      upserts.delete(rawId);
      removals.add(rawId);
      continue;
    }
    if (typeof properties !== 'object' || Array.isArray(properties)) {
      throw conversion(`$.participants.${rawId}`, 'ParticipantProperties');
    }
    const role = (properties as Record<string, unknown>).role;
    if (role !== undefined && role !== null && !isRoomRole(role))
      throw conversion(`$.participants.${rawId}.role`, 'Role');
    removals.delete(rawId);
    upserts.set(rawId, role ?? DEFAULT_ROOM_ROLE);
  }
  return { upserts: [...upserts].map(([rawId, role]) => ({ rawId, role })), removals: [...removals] };
}

/** A parsed create-room request. */
export interface CreateRoomRequest {
  readonly validFrom: number;
  readonly validUntil: number;
  readonly pstnDialOutEnabled: boolean;
  readonly participants: readonly RoomParticipantRecord[];
}

/** Parses and checks a create-room body, applying the ACS defaults (now, +180 days, no PSTN dial-out). */
export function parseCreateRoom(
  body: Readonly<Record<string, unknown>>,
  now: number,
  version: RoomsApiVersion,
  rules: Omit<ParticipantRules, 'invalidIdentifier'>,
): CreateRoomRequest {
  const validFrom = dateField(body, 'validFrom') ?? now;
  const validUntil = dateField(body, 'validUntil') ?? validFrom + MAX_ROOM_SPAN_MS;
  const pstnDialOutEnabled = hasPstnDialOut(version) ? (booleanField(body, 'pstnDialOutEnabled') ?? false) : false;
  const { upserts } = parseParticipants(body.participants, {
    ...rules,
    invalidIdentifier: 'ERR_ROOMS_IDENTIFIER_INVALID',
  });
  checkRoomTimes({ validFrom, validUntil }, now);
  return { validFrom, validUntil, pstnDialOutEnabled, participants: upserts };
}

/** A parsed update-room (merge-patch) request: only the fields given. */
export interface UpdateRoomRequest {
  readonly validFrom?: number | undefined;
  readonly validUntil?: number | undefined;
  readonly pstnDialOutEnabled?: boolean | undefined;
}

/** Parses an update-room body (absent and `null` fields are kept as they are). */
export function parseUpdateRoom(body: Readonly<Record<string, unknown>>, version: RoomsApiVersion): UpdateRoomRequest {
  return {
    validFrom: dateField(body, 'validFrom'),
    validUntil: dateField(body, 'validUntil'),
    pstnDialOutEnabled: hasPstnDialOut(version) ? booleanField(body, 'pstnDialOutEnabled') : undefined,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `Repeatability-Request-ID` of a create (undefined without one). It must be a UUID and come with an
 * IMF-fixdate `Repeatability-First-Sent` (OASIS Repeatable Requests, as the Rooms spec describes them).
 */
export function parseRepeatability(
  requestId: string | string[] | undefined,
  firstSent: string | string[] | undefined,
): string | undefined {
  const id = Array.isArray(requestId) ? requestId[0] : requestId;
  if (id === undefined) return undefined;
  const sent = Array.isArray(firstSent) ? firstSent[0] : firstSent;
  if (!UUID.test(id)) {
    throw new RoomsError('ERR_ROOMS_REPEATABILITY_INVALID', {
      target: 'Repeatability-Request-ID',
      headers: { 'repeatability-result': 'rejected' },
    });
  }
  if (sent === undefined || parseHttpDate(sent) === undefined) {
    throw new RoomsError('ERR_ROOMS_REPEATABILITY_INVALID', {
      target: 'Repeatability-First-Sent',
      headers: { 'repeatability-result': 'rejected' },
    });
  }
  return id.toLowerCase();
}
