import { TesseraError } from '@tessera/core';
import type {
  AccessKeyName,
  AccessKeyRecord,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  CreateIdentityInput,
  CreateIdentityResult,
  IdentityQuery,
  IdentityRecord,
  PruneInput,
  PruneResult,
  ResealedSecret,
  ResourceRecord,
  RevocationEvent,
  RevocationSnapshot,
  RoleAssignmentRecord,
  RoleDefinitionRecord,
  SigningKeyRecord,
  Store,
} from './store.js';

/** An identity as the memory store keeps it: the record plus when it was last revoked or deleted. */
interface IdentityEntry {
  record: IdentityRecord;
  /** Time of the last revocation or deletion; undefined when never revoked or once pruned. */
  revokedAt: number | undefined;
}

/**
 * The state behind one or more memory stores: what a database file is to SQLite. Store instances opened on the same
 * database see each other's writes at once (as processes on one SQLite file do). Opaque: build it with
 * {@link createMemoryDatabase}.
 */
export interface MemoryDatabase {
  /** @internal */
  readonly state: MemoryState;
}

interface MemoryState {
  resource: ResourceRecord | undefined;
  readonly accessKeys: Map<AccessKeyName, AccessKeyRecord>;
  /** By kid, in insertion order. */
  readonly signingKeys: Map<string, SigningKeyRecord>;
  readonly identities: Map<string, IdentityEntry>;
  /** Live identities' customId → id (a tombstone releases its customId). */
  readonly customIds: Map<string, string>;
  /** Repeatability-Request-ID → identity id. */
  readonly requestKeys: Map<string, string>;
  /** Oldest first (seq order). */
  events: RevocationEvent[];
  lastSeq: number;
  prunedThrough: number;
  /** By id, in insertion order. */
  readonly assignments: Map<string, RoleAssignmentRecord>;
  readonly roleDefinitions: Map<string, RoleDefinitionRecord>;
  rolesVersion: number;
  /** Oldest first (seq order). */
  audit: AuditRecord[];
  lastAuditSeq: number;
}

/** A fresh, empty in-memory database for {@link createMemoryStore}. */
export function createMemoryDatabase(): MemoryDatabase {
  return {
    state: {
      resource: undefined,
      accessKeys: new Map(),
      signingKeys: new Map(),
      identities: new Map(),
      customIds: new Map(),
      requestKeys: new Map(),
      events: [],
      lastSeq: 0,
      prunedThrough: 0,
      assignments: new Map(),
      roleDefinitions: new Map(),
      rolesVersion: 0,
      audit: [],
      lastAuditSeq: 0,
    },
  };
}

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** The database to open; a new empty one by default. Pass the same one to several stores to share state. */
  database?: MemoryDatabase | undefined;
}

/**
 * An in-memory store for tests and development: the same semantics as the SQLite and PostgreSQL stores (it passes
 * the same conformance suite) with no I/O. It keeps NOTHING across restarts: every identity, key and event is gone
 * when the process exits. Each method runs synchronously to completion, so each is atomic; records are immutable
 * and copied on the way in, so a caller can never change stored state by mutating what it passed or got back.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const db = options.database ?? createMemoryDatabase();
  const s = db.state;
  let closed = false;

  // Every method runs synchronously; wrapping keeps the async port, turns throws into rejections, and refuses calls
  // on a closed instance as the other stores do.
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      if (closed) throw new TesseraError('ERR_STORE_UNAVAILABLE', 'The store is closed.');
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  /** The next event's seq: after the last one, even when pruning removed every event. */
  const nextSeq = (): number => {
    s.lastSeq = Math.max(s.lastSeq, s.prunedThrough) + 1;
    return s.lastSeq;
  };

  const createIdentity = (input: CreateIdentityInput): CreateIdentityResult => {
    if (input.requestKey !== undefined) {
      const seen = s.requestKeys.get(input.requestKey);
      const existing = seen === undefined ? undefined : s.identities.get(seen);
      if (existing !== undefined) return { identity: existing.record, created: false };
    }
    if (input.customId !== undefined) {
      const owner = s.customIds.get(input.customId);
      const existing = owner === undefined ? undefined : s.identities.get(owner);
      if (existing !== undefined) return { identity: existing.record, created: false };
    }
    if (s.identities.has(input.id)) {
      throw new TesseraError('ERR_INTERNAL', 'An identity with this id already exists.');
    }
    const record: IdentityRecord = {
      id: input.id,
      customId: input.customId,
      createdAt: input.createdAt,
      deletedAt: undefined,
      epoch: 0,
      lastTokenIssuedAt: undefined,
    };
    s.identities.set(input.id, { record, revokedAt: undefined });
    if (input.customId !== undefined) s.customIds.set(input.customId, input.id);
    if (input.requestKey !== undefined) s.requestKeys.set(input.requestKey, input.id);
    return { identity: record, created: true };
  };

  const changeIdentity = (id: string, at: number, kind: 'deleted' | 'revoked'): IdentityRecord | undefined => {
    const entry = s.identities.get(id);
    if (entry === undefined) return undefined;
    if (entry.record.deletedAt !== undefined) return entry.record;
    const before = entry.record;
    const record: IdentityRecord =
      kind === 'deleted'
        ? { ...before, deletedAt: at, customId: undefined, epoch: before.epoch + 1 }
        : { ...before, epoch: before.epoch + 1 };
    if (kind === 'deleted' && before.customId !== undefined) s.customIds.delete(before.customId);
    entry.record = record;
    entry.revokedAt = Math.max(entry.revokedAt ?? 0, at);
    const type = kind === 'deleted' ? 'identity.deleted' : 'identity.revoked';
    s.events.push({ seq: nextSeq(), at, type, identityId: id, epoch: record.epoch });
    return record;
  };

  const regenerate = (name: AccessKeyName, secret: string, at: number): AccessKeyRecord => {
    const before = s.accessKeys.get(name);
    if (before === undefined) {
      throw new TesseraError('ERR_VALIDATION', `Access key '${name}' does not exist.`, { target: 'key' });
    }
    const key: AccessKeyRecord = { name, version: before.version + 1, secret, updatedAt: at };
    s.accessKeys.set(name, key);
    s.events.push({ seq: nextSeq(), at, type: 'key.regenerated', keyName: name, version: key.version });
    return key;
  };

  const initResource = (
    resource: ResourceRecord,
    keys: readonly AccessKeyRecord[],
    signingKey: SigningKeyRecord,
  ): { resource: ResourceRecord; created: boolean } => {
    if (s.resource !== undefined) return { resource: s.resource, created: false };
    s.resource = { ...resource };
    for (const key of keys) s.accessKeys.set(key.name, { ...key });
    s.signingKeys.set(signingKey.kid, { ...signingKey, retiredAt: undefined });
    return { resource, created: true };
  };

  const addSigningKey = (key: SigningKeyRecord): void => {
    for (const [kid, existing] of s.signingKeys) {
      if (existing.status === 'active') {
        s.signingKeys.set(kid, { ...existing, status: 'retired', retiredAt: key.activatesAt });
      }
    }
    s.signingKeys.set(key.kid, { ...key, status: 'active', retiredAt: undefined });
  };

  const reseal = (secrets: readonly ResealedSecret[]): number => {
    let replaced = 0;
    for (const secret of secrets) {
      if (secret.kind === 'accessKey') {
        const key = [...s.accessKeys.values()].find((candidate) => candidate.name === secret.name);
        if (key?.secret === secret.from) {
          s.accessKeys.set(key.name, { ...key, secret: secret.to });
          replaced++;
        }
      } else {
        const key = s.signingKeys.get(secret.name);
        if (key?.privateKey === secret.from) {
          s.signingKeys.set(key.kid, { ...key, privateKey: secret.to });
          replaced++;
        }
      }
    }
    return replaced;
  };

  const recordTokensIssued = (entries: ReadonlyArray<{ readonly id: string; readonly at: number }>): void => {
    for (const e of entries) {
      const entry = s.identities.get(e.id);
      if (entry === undefined) continue;
      const last = Math.max(entry.record.lastTokenIssuedAt ?? 0, e.at);
      entry.record = { ...entry.record, lastTokenIssuedAt: last };
    }
  };

  const snapshot = (): RevocationSnapshot => {
    const identities: Array<RevocationSnapshot['identities'][number]> = [];
    for (const entry of s.identities.values()) {
      if (entry.revokedAt === undefined) continue;
      const { id, epoch, deletedAt } = entry.record;
      identities.push({ id, epoch, deleted: deletedAt !== undefined, at: entry.revokedAt });
    }
    return {
      seq: Math.max(s.lastSeq, s.prunedThrough),
      identities,
      keys: {
        primary: s.accessKeys.get('primary')?.version ?? 0,
        secondary: s.accessKeys.get('secondary')?.version ?? 0,
      },
    };
  };

  const prune = (input: PruneInput): PruneResult => {
    let revocations = 0;
    let tombstones = 0;
    const stale = [...s.identities.values()]
      .filter((entry) => entry.revokedAt !== undefined && entry.revokedAt < input.revocationsBefore)
      .sort((a, b) => (a.revokedAt ?? 0) - (b.revokedAt ?? 0))
      .slice(0, input.batch);
    for (const entry of stale) {
      const id = entry.record.id;
      if (entry.record.deletedAt !== undefined) {
        for (const [key, owner] of s.requestKeys) if (owner === id) s.requestKeys.delete(key);
        s.identities.delete(id);
        tombstones++;
      } else {
        entry.revokedAt = undefined;
        revocations++;
      }
    }
    const staleEvents = s.events
      .filter((event) => event.at < input.revocationsBefore)
      .sort((a, b) => a.at - b.at)
      .slice(0, input.batch);
    if (staleEvents.length > 0) {
      const dropped = new Set(staleEvents.map((event) => event.seq));
      s.events = s.events.filter((event) => !dropped.has(event.seq));
      s.prunedThrough = Math.max(s.prunedThrough, ...dropped);
    }
    let audit = 0;
    if (input.auditBefore !== undefined) {
      const cut = input.auditBefore;
      const dropped = new Set(
        s.audit
          .filter((entry) => entry.at < cut)
          .sort((a, b) => a.at - b.at)
          .slice(0, input.batch)
          .map((entry) => entry.seq),
      );
      s.audit = s.audit.filter((entry) => !dropped.has(entry.seq));
      audit = dropped.size;
    }
    let signingKeys = 0;
    for (const [kid, key] of s.signingKeys) {
      if (key.status === 'retired' && key.retiredAt !== undefined && key.retiredAt < input.signingKeysBefore) {
        s.signingKeys.delete(kid);
        signingKeys++;
      }
    }
    return { revocations, tombstones, events: staleEvents.length, audit, signingKeys, skipped: false };
  };

  const listIdentities = (query: IdentityQuery): IdentityRecord[] =>
    [...s.identities.values()]
      .map((entry) => entry.record)
      .filter(
        (record) =>
          record.deletedAt === undefined &&
          record.id > (query.afterId ?? '') &&
          (query.customId === undefined || record.customId === query.customId),
      )
      .sort((a, b) => compare(a.id, b.id))
      .slice(0, query.limit);

  const addAssignment = (a: RoleAssignmentRecord): { assignment: RoleAssignmentRecord; created: boolean } => {
    for (const existing of s.assignments.values()) {
      if (
        existing.role === a.role &&
        existing.issuer === a.issuer &&
        existing.principalType === a.principalType &&
        existing.principalId === a.principalId
      ) {
        return { assignment: existing, created: false };
      }
    }
    if (s.assignments.has(a.id)) throw new TesseraError('ERR_INTERNAL', 'A role assignment with this id exists.');
    s.assignments.set(a.id, { ...a });
    s.rolesVersion++;
    return { assignment: a, created: true };
  };

  const removeRole = (name: string): 'removed' | 'unknown' | 'assigned' => {
    for (const a of s.assignments.values()) if (a.role === name) return 'assigned';
    if (!s.roleDefinitions.delete(name)) return 'unknown';
    s.rolesVersion++;
    return 'removed';
  };

  const appendAudit = (entries: readonly AuditEntry[]): void => {
    for (const entry of entries) {
      s.lastAuditSeq++;
      s.audit.push({ ...entry, seq: s.lastAuditSeq });
    }
  };

  const listAudit = (query: AuditQuery): AuditRecord[] => {
    const out: AuditRecord[] = [];
    for (let i = s.audit.length - 1; i >= 0 && out.length < query.limit; i--) {
      const entry = s.audit[i];
      if (entry === undefined) continue;
      if (query.identityId !== undefined && entry.identityId !== query.identityId) continue;
      if (query.since !== undefined && entry.at < query.since) continue;
      if (query.beforeSeq !== undefined && entry.seq >= query.beforeSeq) continue;
      out.push(entry);
    }
    return out;
  };

  return {
    migrate: () => run(() => undefined),
    ping: () => run(() => undefined),
    close: async () => {
      closed = true;
    },
    getResource: () => run(() => s.resource),
    initResource: (resource, keys, signingKey) => run(() => initResource(resource, keys, signingKey)),
    listAccessKeys: () => run(() => [...s.accessKeys.values()].sort((a, b) => compare(a.name, b.name))),
    regenerateAccessKey: (name, secret, at) => run(() => regenerate(name, secret, at)),
    listSigningKeys: () =>
      run(() => [...s.signingKeys.values()].sort((a, b) => a.createdAt - b.createdAt || compare(a.kid, b.kid))),
    addSigningKey: (key) => run(() => addSigningKey(key)),
    resealSecrets: (secrets) => run(() => reseal(secrets)),
    createIdentity: (input) => run(() => createIdentity(input)),
    getIdentity: (id) => run(() => s.identities.get(id)?.record),
    listIdentities: (query) => run(() => listIdentities(query)),
    deleteIdentity: (id, at) => run(() => changeIdentity(id, at, 'deleted')),
    revokeIdentityTokens: (id, at) => run(() => changeIdentity(id, at, 'revoked')),
    recordTokensIssued: (entries) => run(() => recordTokensIssued(entries)),
    listEvents: (afterSeq, limit) => run(() => s.events.filter((event) => event.seq > afterSeq).slice(0, limit)),
    revocationSnapshot: () => run(snapshot),
    eventsPrunedThrough: () => run(() => s.prunedThrough),
    prune: (input) => run(() => prune(input)),
    listRoleAssignments: () =>
      run(() => [...s.assignments.values()].sort((a, b) => a.createdAt - b.createdAt || compare(a.id, b.id))),
    addRoleAssignment: (assignment) => run(() => addAssignment(assignment)),
    removeRoleAssignment: (id) =>
      run(() => {
        if (!s.assignments.delete(id)) return false;
        s.rolesVersion++;
        return true;
      }),
    listRoleDefinitions: () => run(() => [...s.roleDefinitions.values()].sort((a, b) => compare(a.name, b.name))),
    putRoleDefinition: (role) =>
      run(() => {
        s.roleDefinitions.set(role.name, { ...role, actions: [...role.actions] });
        s.rolesVersion++;
      }),
    removeRoleDefinition: (name) => run(() => removeRole(name)),
    rolesVersion: () => run(() => s.rolesVersion),
    appendAudit: (entries) => run(() => appendAudit(entries)),
    listAudit: (query) => run(() => listAudit(query)),
  };
}

/** Binary (code unit) order, as SQLite's and PostgreSQL's `C` collation compare ids. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
