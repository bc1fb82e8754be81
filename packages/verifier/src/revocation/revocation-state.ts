import { type AccessKeyVersions, type IdentityRevocationState, MAX_TOKEN_MINUTES } from '@tessera/core';

const LIVE: IdentityRevocationState = Object.freeze({ epoch: 0, deleted: false });

/**
 * How long a revocation fact matters after the server made it: the longest token lifetime plus 15 minutes for the
 * server's and this verifier's clocks to disagree (the server keeps its entries as long: docs/state-and-retention.md).
 */
export const REVOCATION_RETENTION_MS = (MAX_TOKEN_MINUTES + 15) * 60_000;

/** A revocation fact with the server's time of the last revocation or deletion (Infinity when not given). */
interface Entry extends IdentityRevocationState {
  readonly at: number;
}

/** The feed's snapshot, as sent in `event: snapshot`. */
export interface RevocationSnapshotData {
  readonly seq: number;
  readonly identities: ReadonlyArray<{
    readonly id: string;
    readonly epoch: number;
    readonly deleted: boolean;
    /** Server time of the last revocation or deletion (servers before the retention change omit it). */
    readonly at?: number | undefined;
  }>;
  readonly keys: AccessKeyVersions;
}

/**
 * Ids are compared case-insensitively (they are GUID-based); the feed may carry raw ids (`8:acs:…`) and tokens
 * always do, so one key form serves both.
 */
export function identityKey(id: string): string {
  return id.toLowerCase();
}

/**
 * The compact revocation facts a verifier keeps: identity → {epoch, deleted} for identities ever revoked or
 * deleted (an identity not listed is live at epoch 0 — the feed's snapshot lists only the others), and the
 * versions of the access keys that can mint tokens.
 */
export class RevocationStateStore {
  #identities = new Map<string, Entry>();
  #keys: AccessKeyVersions = { primary: 1, secondary: 1 };
  #seq: number | undefined;
  #version = 0;

  /**
   * Grows on every change. A cached verification remembers the version it was judged at and skips re-judging
   * while nothing has changed; any revocation bumps it, so the next hit is judged again.
   */
  get version(): number {
    return this.#version;
  }

  /** Sequence number of the last applied feed entry; undefined before the first snapshot. */
  get seq(): number | undefined {
    return this.#seq;
  }

  get accessKeys(): AccessKeyVersions {
    return this.#keys;
  }

  /** Number of identities with revocation facts. */
  get size(): number {
    return this.#identities.size;
  }

  /** Replaces everything with a snapshot. */
  applySnapshot(snapshot: RevocationSnapshotData): void {
    const next = new Map<string, Entry>();
    for (const entry of snapshot.identities) {
      const at = entry.at ?? Number.POSITIVE_INFINITY;
      next.set(identityKey(entry.id), Object.freeze({ epoch: entry.epoch, deleted: entry.deleted, at }));
    }
    this.#identities = next;
    this.#keys = Object.freeze({ primary: snapshot.keys.primary, secondary: snapshot.keys.secondary });
    this.#seq = snapshot.seq;
    this.#version++;
  }

  /** Applies `identity.revoked` / `identity.deleted` made at server time `at`. Epochs only grow; deletion is final. */
  applyIdentity(seq: number, id: string, epoch: number, deleted: boolean, at = Number.POSITIVE_INFINITY): void {
    const key = identityKey(id);
    const prev = this.#identities.get(key);
    this.#identities.set(
      key,
      Object.freeze({
        epoch: Math.max(prev?.epoch ?? 0, epoch),
        deleted: (prev?.deleted ?? false) || deleted,
        at: Math.max(prev?.at ?? Number.NEGATIVE_INFINITY, at),
      }),
    );
    this.#advance(seq);
  }

  /**
   * Forgets the facts made before `before` (server time, Unix ms): every token they could refuse has expired, so a
   * long-running verifier's memory stays bounded as the server's snapshot does. Returns how many went.
   */
  prune(before: number): number {
    let removed = 0;
    for (const [key, entry] of this.#identities) {
      if (entry.at < before) {
        this.#identities.delete(key);
        removed++;
      }
    }
    if (removed > 0) this.#version++;
    return removed;
  }

  /** Applies `key.regenerated`; the read-only verifier key cannot mint tokens and is ignored. */
  applyKey(seq: number, keyName: string, version: number): void {
    if (keyName === 'primary' || keyName === 'secondary') {
      const current = this.#keys[keyName];
      if (version > current) this.#keys = Object.freeze({ ...this.#keys, [keyName]: version });
    }
    this.#advance(seq);
  }

  /** One identity's revocation facts (live at epoch 0 when never revoked or deleted). */
  identity(identity: string): IdentityRevocationState {
    // Most deployments have revoked nobody recently: no lower-casing and no hashing of a fresh 79-character id then.
    if (this.#identities.size === 0) return LIVE;
    return this.#identities.get(identityKey(identity)) ?? LIVE;
  }

  #advance(seq: number): void {
    this.#version++;
    if (this.#seq === undefined || seq > this.#seq) this.#seq = seq;
  }
}
