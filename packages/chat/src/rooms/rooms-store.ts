import type { RoomRole } from '@tessera/core';

/**
 * The Rooms store port: what the Rooms routes need from a database. Records are domain values (raw ids, Unix
 * milliseconds), not wire shapes. Every method is atomic. One conformance suite (test/rooms/rooms-store-conformance.ts)
 * holds every implementation (SQLite, PostgreSQL) to the same behaviour. Its tables are its own (`rooms`,
 * `room_participants`, `rooms_schema_migrations`), so it can share a database with the chat store.
 */

/** A room. */
export interface RoomRecord {
  /** Numeric string, as ACS (`99117812428622880`). */
  readonly id: string;
  readonly createdAt: number;
  /** From when the room may be joined (Unix ms). */
  readonly validFrom: number;
  /** From when it may no longer be joined (Unix ms). */
  readonly validUntil: number;
  readonly pstnDialOutEnabled: boolean;
  /** Set once deleted; a deleted room answers 404 everywhere. */
  readonly deletedAt?: number | undefined;
}

/** A participant of a room: a communication user's raw id and its role. */
export interface RoomParticipantRecord {
  readonly rawId: string;
  readonly role: RoomRole;
}

/** Creates a room with its first participants. */
export interface CreateRoomInput {
  readonly room: Omit<RoomRecord, 'deletedAt'>;
  readonly participants: readonly RoomParticipantRecord[];
  /**
   * `Repeatability-Request-ID` idempotency: a second create with the same `requestId` returns the first room
   * instead of creating one; `fingerprint` (a hash of the request) tells a retry from another request reusing it.
   */
  readonly repeatability?: { readonly requestId: string; readonly fingerprint: string } | undefined;
}

/** What {@link RoomsStore.createRoom} answers. */
export interface CreateRoomResult {
  readonly room: RoomRecord;
  /** False when the repeatability id matched an earlier create (`room` is then that one). */
  readonly created: boolean;
  /** On a replay: whether the earlier request had the same fingerprint. True for a fresh create. */
  readonly sameRequest: boolean;
}

/** Where a page of rooms continues: after this room in newest-first order. */
export interface RoomsCursor {
  readonly createdAt: number;
  readonly id: string;
}

/** Changes of {@link RoomsStore.updateRoom}; absent fields are kept. */
export interface RoomPatch {
  readonly validFrom?: number | undefined;
  readonly validUntil?: number | undefined;
  readonly pstnDialOutEnabled?: boolean | undefined;
}

/** A participant with its position in the room's roster (for paging). */
export interface RoomParticipantRow extends RoomParticipantRecord {
  /** Increases with the order participants were first added. */
  readonly position: number;
}

/** The Rooms store port. */
export interface RoomsStore {
  /** Creates or upgrades the tables (idempotent; safe from several processes at once). */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /**
   * Creates the room and its participants. Throws `RoomIdTakenError` when the id is in use (the caller draws
   * another).
   */
  createRoom(input: CreateRoomInput): Promise<CreateRoomResult>;
  /** The room, deleted ones included (check `deletedAt`); undefined when unknown. */
  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  /** Rooms not deleted, newest first (`createdAt` then `id`, both descending), after `after`. */
  listRooms(limit: number, after?: RoomsCursor | undefined): Promise<RoomRecord[]>;
  /** Applies the patch; undefined when the room is unknown or deleted. */
  updateRoom(roomId: string, patch: RoomPatch): Promise<RoomRecord | undefined>;
  /** Marks the room deleted and drops its participants; false when unknown or already deleted. */
  deleteRoom(roomId: string, now: number): Promise<boolean>;

  /** One participant's role; undefined when not on the roster. */
  getParticipant(roomId: string, rawId: string): Promise<RoomParticipantRecord | undefined>;
  /** Participants in the order they were first added, after position `afterPosition` (exclusive). */
  listParticipants(roomId: string, limit: number, afterPosition?: number | undefined): Promise<RoomParticipantRow[]>;
  /** How many participants the room has. */
  countParticipants(roomId: string): Promise<number>;
  /**
   * The ids of the rooms `rawId` (lower case) is a participant of, newest first (`createdAt` then `id`, both
   * descending), at most `limit`. Deleted rooms and rooms whose `validUntil` is at or before `now` are left out:
   * they are no longer a place the users share (rooms not yet valid are kept: their participants are scheduled
   * together). Presence reads it to find a user's room mates.
   */
  listRoomsOf(rawId: string, now: number, limit: number): Promise<string[]>;
  /**
   * Adds or changes the role of `upserts` and removes `removals` (absent ones are ignored), in one transaction.
   * Nothing changes when the room is unknown or deleted (`not-found`) or the roster would exceed
   * `maxParticipants` (`too-many`).
   */
  updateParticipants(
    roomId: string,
    upserts: readonly RoomParticipantRecord[],
    removals: readonly string[],
    maxParticipants: number,
  ): Promise<'updated' | 'not-found' | 'too-many'>;
}

/** Thrown by {@link RoomsStore.createRoom} when the new room's id is already used. */
export class RoomIdTakenError extends Error {
  constructor() {
    super('The room id is already in use.');
    this.name = 'RoomIdTakenError';
  }
}
