/**
 * The store port: everything the identity server persists, behind one small async interface.
 * Implementations: SQLite (embedded default), PostgreSQL (scale-out) and memory (tests, development). All must pass
 * `test/store-conformance.ts`. Secrets arrive already encrypted; a store never sees plaintext keys.
 */

/** The one resource a server serves (an ACS "Communication Services resource"). */
export interface ResourceRecord {
  readonly resourceId: string;
  readonly location: string;
  readonly createdAt: number;
}

/**
 * The access keys of a resource: `primary` and `secondary` have full control (as in ACS); `verifier` is
 * read-only (revocation feed, introspection) and can never mint tokens.
 */
export type AccessKeyName = 'primary' | 'secondary' | 'verifier';

/** An access key slot. `secret` is the encrypted key material; `version` starts at 1 and grows on regeneration. */
export interface AccessKeyRecord {
  readonly name: AccessKeyName;
  readonly version: number;
  readonly secret: string;
  readonly updatedAt: number;
}

/** A token signing key. `privateKey` is encrypted; `publicJwk` is the JSON text of the public JWK. */
export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: string;
  readonly publicJwk: string;
  readonly createdAt: number;
  /** Active keys sign; retired keys are still published in JWKS until their tokens have expired. */
  readonly status: 'active' | 'retired';
  /**
   * When the key starts signing (Unix ms). A rotated-in key is published in JWKS a little before it signs, so every
   * process and verifier knows it before the first token carrying its `kid` exists.
   */
  readonly activatesAt: number;
  /** When the key stopped signing (the next key's `activatesAt`); undefined while active. */
  readonly retiredAt: number | undefined;
}

/** A communication identity. Deleted identities stay as tombstones so their tokens are judged "deleted". */
export interface IdentityRecord {
  readonly id: string;
  readonly customId: string | undefined;
  readonly createdAt: number;
  readonly deletedAt: number | undefined;
  /** Tokens minted at an epoch below this one are revoked. */
  readonly epoch: number;
  readonly lastTokenIssuedAt: number | undefined;
}

/** An entry of the revocation feed, in commit order. */
export type RevocationEvent =
  | {
      readonly seq: number;
      readonly at: number;
      readonly type: 'identity.revoked';
      readonly identityId: string;
      readonly epoch: number;
    }
  | {
      readonly seq: number;
      readonly at: number;
      readonly type: 'identity.deleted';
      readonly identityId: string;
      readonly epoch: number;
    }
  | {
      readonly seq: number;
      readonly at: number;
      readonly type: 'key.regenerated';
      readonly keyName: AccessKeyName;
      readonly version: number;
    };

/** Input of {@link Store.createIdentity}. */
export interface CreateIdentityInput {
  readonly id: string;
  readonly customId?: string | undefined;
  /** Repeatability-Request-ID: a retried create with the same key returns the first identity. */
  readonly requestKey?: string | undefined;
  readonly createdAt: number;
}

/** Result of {@link Store.createIdentity}: `created` is false when a customId or request key matched. */
export interface CreateIdentityResult {
  readonly identity: IdentityRecord;
  readonly created: boolean;
}

/** Revocation state of everything revoked so far: what a new feed subscriber starts from. */
export interface RevocationSnapshot {
  /** Sequence number of the last event included. */
  readonly seq: number;
  /**
   * Identities revoked or deleted within the revocation retention (see {@link Store.prune}); `at` is the time of
   * the last revocation or deletion, after which (plus the longest token lifetime) the entry no longer matters.
   */
  readonly identities: ReadonlyArray<{
    readonly id: string;
    readonly epoch: number;
    readonly deleted: boolean;
    readonly at: number;
  }>;
  /** Versions of the keys that can mint tokens (the verifier key cannot). */
  readonly keys: { readonly primary: number; readonly secondary: number };
}

/** Which claim of a bearer token a role assignment matches (see auth/roles.ts). */
export type RolePrincipalType = 'subject' | 'objectId' | 'appId' | 'group' | 'appRole';

/** A role given to a bearer principal of one trusted issuer. */
export interface RoleAssignmentRecord {
  /** uuid */
  readonly id: string;
  /** A built-in role id (`identity-administrator`, …) or a custom role's name. */
  readonly role: string;
  /** The trusted issuer (`iss`) whose tokens the assignment applies to. */
  readonly issuer: string;
  readonly principalType: RolePrincipalType;
  /** The claim value to match, e.g. the `oid`, the app id or a group id. */
  readonly principalId: string;
  readonly description: string | undefined;
  readonly createdAt: number;
  /** Principal label of who made the assignment (`key:primary`, `bearer:…`). */
  readonly createdBy: string;
}

/** A custom role: a named set of data actions. Built-in roles are code, not stored. */
export interface RoleDefinitionRecord {
  readonly name: string;
  readonly description: string | undefined;
  /** Data action names (auth/principal.ts DATA_ACTIONS). */
  readonly actions: readonly string[];
  readonly updatedAt: number;
}

/** One control-plane call as the audit log keeps it. Never holds a token, key or signature. */
export interface AuditEntry {
  readonly at: number;
  /** Principal label (`key:primary`, `bearer:<issuer>#<subject>`) or `unauthenticated`. */
  readonly actor: string;
  /** Operation name, e.g. `identity.create`. */
  readonly operation: string;
  readonly identityId: string | undefined;
  readonly outcome: 'success' | 'failure';
  /** HTTP status answered. */
  readonly status: number;
  /** Tessera error code on failure. */
  readonly code: string | undefined;
  readonly requestId: string;
  /** A short, secret-free fact about the call (e.g. `key=primary`, `role=reader`). */
  readonly detail: string | undefined;
}

/** An {@link AuditEntry} as stored, with its position in the log. */
export interface AuditRecord extends AuditEntry {
  readonly seq: number;
}

/** Filters of {@link Store.listIdentities}. */
export interface IdentityQuery {
  /** Only identities whose id sorts after this one (the last id of the previous page). */
  readonly afterId?: string | undefined;
  /** Only the identity with this customId. */
  readonly customId?: string | undefined;
  readonly limit: number;
}

/** Filters of {@link Store.listAudit}. */
export interface AuditQuery {
  readonly identityId?: string | undefined;
  /** Only entries at or after this time (Unix ms). */
  readonly since?: number | undefined;
  /** Only entries with seq below this (paging backwards). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

/** Input of {@link Store.prune}: everything strictly older than the given instants (Unix ms) goes. */
export interface PruneInput {
  /**
   * Revocation entries (revoked identities drop out of the snapshot, deleted ones are removed with their
   * Repeatability-Request-IDs) and events with `at` before this. Callers pass now − (longest token lifetime + skew).
   */
  readonly revocationsBefore: number;
  /** Retired signing keys with `retiredAt` before this are removed (and so leave JWKS). */
  readonly signingKeysBefore: number;
  /** Audit entries with `at` before this; undefined keeps audit for ever. */
  readonly auditBefore: number | undefined;
  /** At most this many rows of each kind per call, so one call never holds the store for long. */
  readonly batch: number;
}

/** What one {@link Store.prune} call removed; `skipped` when another process was pruning the same store. */
export interface PruneResult {
  /** Revoked (not deleted) identities dropped from the revocation snapshot. */
  readonly revocations: number;
  /** Deleted identities' tombstones removed. */
  readonly tombstones: number;
  readonly events: number;
  readonly audit: number;
  readonly signingKeys: number;
  readonly skipped: boolean;
}

/** One stored secret re-sealed under a new master key: replaced only while it still holds `from`. */
export interface ResealedSecret {
  readonly kind: 'accessKey' | 'signingKey';
  /** Access key name or signing key kid. */
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** What a store announces to other processes (PostgreSQL NOTIFY payload) when signing keys change. */
export const SIGNING_KEYS_NOTICE = 'signing-keys';

/** The store port. Every method is atomic; a resolved write is durable. */
export interface Store {
  /** Creates or upgrades the schema. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;

  getResource(): Promise<ResourceRecord | undefined>;
  /**
   * Creates the resource and its keys unless one exists; returns whatever is stored afterwards, so
   * concurrent first starts agree on one resource.
   */
  initResource(
    resource: ResourceRecord,
    keys: readonly AccessKeyRecord[],
    signingKey: SigningKeyRecord,
  ): Promise<{ resource: ResourceRecord; created: boolean }>;

  listAccessKeys(): Promise<AccessKeyRecord[]>;
  /** Replaces a key's secret, bumps its version and appends a `key.regenerated` event. */
  regenerateAccessKey(name: AccessKeyName, secret: string, at: number): Promise<AccessKeyRecord>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Adds a key as active and retires the previously active ones (their `retiredAt` becomes the new key's
   * `activatesAt`). NOTIFYs other processes where the store can.
   */
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Replaces sealed secrets (master key rotation), each only if it still holds `from` (compare-and-set, so a
   * concurrent regeneration wins). Returns how many were replaced.
   */
  resealSecrets(secrets: readonly ResealedSecret[]): Promise<number>;

  createIdentity(input: CreateIdentityInput): Promise<CreateIdentityResult>;
  /** Returns the identity, deleted or not. */
  getIdentity(id: string): Promise<IdentityRecord | undefined>;
  /** Live (not deleted) identities in id order, at most `limit`: the operator's listing (`tessera identities list`). */
  listIdentities(query: IdentityQuery): Promise<IdentityRecord[]>;
  /** Tombstones the identity (customId released), bumps its epoch, appends `identity.deleted`. Undefined if unknown. */
  deleteIdentity(id: string, at: number): Promise<IdentityRecord | undefined>;
  /** Bumps the epoch and appends `identity.revoked`. Undefined if unknown; a deleted identity is returned unchanged. */
  revokeIdentityTokens(id: string, at: number): Promise<IdentityRecord | undefined>;
  /** Records token issue times in one write; later times win. Unknown ids are ignored. */
  recordTokensIssued(entries: ReadonlyArray<{ readonly id: string; readonly at: number }>): Promise<void>;

  /** Events with seq > `afterSeq`, oldest first, at most `limit`. */
  listEvents(afterSeq: number, limit: number): Promise<RevocationEvent[]>;
  /** The current revocation state. */
  revocationSnapshot(): Promise<RevocationSnapshot>;
  /**
   * The highest seq removed by {@link Store.prune} (0 if none): a follower resuming at or after it misses nothing;
   * one resuming before it must start again from a snapshot.
   */
  eventsPrunedThrough(): Promise<number>;
  /**
   * Removes what no longer matters (see {@link PruneInput}), oldest first, at most `batch` rows of each kind. Safe
   * to call from several processes at once: one prunes, the others get `skipped`.
   */
  prune(input: PruneInput): Promise<PruneResult>;

  /** Every role assignment, oldest first. */
  listRoleAssignments(): Promise<RoleAssignmentRecord[]>;
  /**
   * Adds an assignment unless one with the same role, issuer, principal type and id exists; returns what is
   * stored afterwards (`created: false` with the existing one). Bumps the roles version when created.
   */
  addRoleAssignment(assignment: RoleAssignmentRecord): Promise<{ assignment: RoleAssignmentRecord; created: boolean }>;
  /** Removes an assignment; false if unknown. Bumps the roles version when removed. */
  removeRoleAssignment(id: string): Promise<boolean>;
  /** Every custom role, by name. */
  listRoleDefinitions(): Promise<RoleDefinitionRecord[]>;
  /** Creates or replaces a custom role and bumps the roles version. */
  putRoleDefinition(role: RoleDefinitionRecord): Promise<void>;
  /**
   * Removes a custom role; `'unknown'` if there is none, `'assigned'` (and nothing changes) while an assignment
   * still names it. Bumps the roles version when removed.
   */
  removeRoleDefinition(name: string): Promise<'removed' | 'unknown' | 'assigned'>;
  /** A counter that grows with every role or assignment change, so other processes know to reload. */
  rolesVersion(): Promise<number>;

  /** Appends audit entries in one write, in the given order. */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Audit entries matching the query, newest first. */
  listAudit(query: AuditQuery): Promise<AuditRecord[]>;
}
