/** The presence states a user may set (Tessera extension, docs/presence.md). */
export const PRESENCE_STATES = ['available', 'busy', 'away', 'doNotDisturb', 'offline'] as const;

/** One presence state. */
export type PresenceState = (typeof PRESENCE_STATES)[number];

/** A user's presence as set (raw id in lower case, times in Unix ms). */
export interface PresenceRecord {
  readonly rawId: string;
  readonly state: PresenceState;
  readonly note?: string | undefined;
  /** After this instant the state reverts to `offline` (no note). */
  readonly expiresOn?: number | undefined;
  readonly updatedOn: number;
}

/**
 * The presence store port: one row per user who ever set a presence. SQLite and PostgreSQL implement it and pass
 * one conformance suite (packages/chat/test/presence/presence-store-conformance.ts).
 */
export interface PresenceStore {
  /** Creates the table (idempotent; safe from several processes at once). */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Sets (replaces) a user's presence; a new expiry is armed again. */
  put(record: PresenceRecord): Promise<void>;
  /** The records of those of `rawIds` that have one, in no particular order. */
  getMany(rawIds: readonly string[]): Promise<PresenceRecord[]>;
  /**
   * Takes up to `limit` records whose `expiresOn` is at or before `now` and not taken before, marking them taken
   * (exactly one caller gets each, across processes): the expiries to announce.
   */
  claimExpired(now: number, limit: number): Promise<PresenceRecord[]>;
}

/** A stored row's state, or undefined for a value the code does not know (never trusted blindly). */
export function toPresenceState(value: string): PresenceState | undefined {
  return (PRESENCE_STATES as readonly string[]).includes(value) ? (value as PresenceState) : undefined;
}
