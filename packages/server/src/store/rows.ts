import { TesseraError } from '@tessera/core';
import type {
  AccessKeyName,
  AccessKeyRecord,
  AuditRecord,
  IdentityRecord,
  ResourceRecord,
  RevocationEvent,
  RoleAssignmentRecord,
  RoleDefinitionRecord,
  RolePrincipalType,
  SigningKeyRecord,
} from './store.js';

// Rows as both stores read them (same column names), and their one mapping to the port's records.
// Integer columns come back as numbers from SQLite and as strings from PostgreSQL's bigint, hence `DbInt`.

/** An integer column: a number (SQLite) or the text of a bigint (PostgreSQL). */
export type DbInt = number | string;

export interface IdentityRow {
  id: string;
  custom_id: string | null;
  created_at: DbInt;
  deleted_at: DbInt | null;
  epoch: number;
  last_token_issued_at: DbInt | null;
}

export interface EventRow {
  seq: DbInt;
  at: DbInt;
  type: string;
  identity_id: string | null;
  epoch: number | null;
  key_name: string | null;
  version: number | null;
}

export interface AccessKeyRow {
  name: string;
  version: number;
  secret: string;
  updated_at: DbInt;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  private_key: string;
  public_jwk: string;
  created_at: DbInt;
  status: string;
  activates_at: DbInt | null;
  retired_at: DbInt | null;
}

export interface ResourceRow {
  resource_id: string;
  location: string;
  created_at: DbInt;
}

export interface RoleAssignmentRow {
  id: string;
  role: string;
  issuer: string;
  principal_type: string;
  principal_id: string;
  description: string | null;
  created_at: DbInt;
  created_by: string;
}

export interface RoleDefinitionRow {
  name: string;
  description: string | null;
  /** A JSON array (PostgreSQL jsonb) or its text (SQLite). */
  actions: unknown;
  updated_at: DbInt;
}

export interface AuditRow {
  seq: DbInt;
  at: DbInt;
  actor: string;
  operation: string;
  identity_id: string | null;
  outcome: string;
  status: number;
  code: string | null;
  request_id: string;
  detail: string | null;
}

export function toIdentity(row: IdentityRow): IdentityRecord {
  return {
    id: row.id,
    customId: row.custom_id ?? undefined,
    createdAt: Number(row.created_at),
    deletedAt: row.deleted_at === null ? undefined : Number(row.deleted_at),
    epoch: row.epoch,
    lastTokenIssuedAt: row.last_token_issued_at === null ? undefined : Number(row.last_token_issued_at),
  };
}

export function toKeyName(name: string): AccessKeyName {
  if (name === 'primary' || name === 'secondary' || name === 'verifier') return name;
  throw new TesseraError('ERR_INTERNAL', 'The store holds an access key with an unknown name.');
}

export function toAccessKey(row: AccessKeyRow): AccessKeyRecord {
  return { name: toKeyName(row.name), version: row.version, secret: row.secret, updatedAt: Number(row.updated_at) };
}

export function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    privateKey: row.private_key,
    publicJwk: row.public_jwk,
    createdAt: Number(row.created_at),
    status: row.status === 'retired' ? 'retired' : 'active',
    activatesAt: Number(row.activates_at ?? row.created_at),
    retiredAt: row.retired_at === null ? undefined : Number(row.retired_at),
  };
}

export function toResource(row: ResourceRow): ResourceRecord {
  return { resourceId: row.resource_id, location: row.location, createdAt: Number(row.created_at) };
}

export function toPrincipalType(type: string): RolePrincipalType {
  if (type === 'subject' || type === 'objectId' || type === 'appId' || type === 'group' || type === 'appRole') {
    return type;
  }
  throw new TesseraError('ERR_INTERNAL', 'The store holds a role assignment with an unknown principal type.');
}

export function toAssignment(row: RoleAssignmentRow): RoleAssignmentRecord {
  return {
    id: row.id,
    role: row.role,
    issuer: row.issuer,
    principalType: toPrincipalType(row.principal_type),
    principalId: row.principal_id,
    description: row.description ?? undefined,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
  };
}

export function toRoleDefinition(row: RoleDefinitionRow): RoleDefinitionRecord {
  const actions: unknown = typeof row.actions === 'string' ? JSON.parse(row.actions) : row.actions;
  return {
    name: row.name,
    description: row.description ?? undefined,
    actions: Array.isArray(actions) ? actions.filter((a): a is string => typeof a === 'string') : [],
    updatedAt: Number(row.updated_at),
  };
}

export function toAudit(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    actor: row.actor,
    operation: row.operation,
    identityId: row.identity_id ?? undefined,
    outcome: row.outcome === 'success' ? 'success' : 'failure',
    status: row.status,
    code: row.code ?? undefined,
    requestId: row.request_id,
    detail: row.detail ?? undefined,
  };
}

export function toEvent(row: EventRow): RevocationEvent {
  const seq = Number(row.seq);
  const at = Number(row.at);
  if ((row.type === 'identity.revoked' || row.type === 'identity.deleted') && row.identity_id !== null) {
    return { seq, at, type: row.type, identityId: row.identity_id, epoch: row.epoch ?? 0 };
  }
  if (row.type === 'key.regenerated' && row.key_name !== null) {
    return { seq, at, type: row.type, keyName: toKeyName(row.key_name), version: row.version ?? 0 };
  }
  throw new TesseraError('ERR_INTERNAL', `The store holds a malformed event (seq ${seq}).`);
}
