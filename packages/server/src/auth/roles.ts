import { TesseraError } from '@tessera/core';
import type { RolePrincipalType } from '../store/store.js';
import { DATA_ACTIONS, type DataAction } from './principal.js';

/** A role: a named set of data actions. */
export interface RoleDefinition {
  readonly name: string;
  readonly description: string;
  readonly actions: readonly DataAction[];
  readonly builtIn: boolean;
}

/** The built-in roles, by data action (custom roles add to these; they cannot replace them). */
export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    name: 'owner',
    description: 'Everything, like a primary access key.',
    actions: [...DATA_ACTIONS],
    builtIn: true,
  },
  {
    name: 'identity-administrator',
    description: 'Create, get and delete identities; issue, exchange and revoke their tokens.',
    actions: [
      'identities/create',
      'identities/read',
      'identities/delete',
      'tokens/issue',
      'tokens/revoke',
      'tokens/exchange',
    ],
    builtIn: true,
  },
  {
    name: 'token-issuer',
    description: 'Get identities and issue tokens for them (no create, delete or revoke).',
    actions: ['identities/read', 'tokens/issue'],
    builtIn: true,
  },
  {
    name: 'token-exchanger',
    description: 'Exchange user tokens of a trusted issuer for communication tokens.',
    actions: ['tokens/exchange'],
    builtIn: true,
  },
  { name: 'reader', description: 'Get identities.', actions: ['identities/read'], builtIn: true },
  {
    name: 'verifier',
    description:
      'Introspect tokens, read the revocation feed and ask Rooms call decisions (what a data-plane service needs).',
    actions: ['tokens/introspect', 'revocations/read', 'rooms/decide'],
    builtIn: true,
  },
  {
    name: 'rooms-administrator',
    description: 'Create, read, update and delete rooms and their participants; ask call decisions.',
    actions: ['rooms/read', 'rooms/write', 'rooms/decide'],
    builtIn: true,
  },
  {
    name: 'rooms-reader',
    description: 'Read rooms and their participants.',
    actions: ['rooms/read'],
    builtIn: true,
  },
  {
    name: 'key-administrator',
    description: 'Read and regenerate access keys.',
    actions: ['keys/read', 'keys/write'],
    builtIn: true,
  },
  {
    name: 'role-administrator',
    description: 'Read and change roles and role assignments.',
    actions: ['roles/read', 'roles/write'],
    builtIn: true,
  },
  {
    name: 'auditor',
    description: 'Read the audit log and role assignments.',
    actions: ['audit/read', 'roles/read'],
    builtIn: true,
  },
  {
    name: 'metrics-reader',
    description: 'Scrape GET /metrics on the main port (with --metrics-api).',
    actions: ['metrics/read'],
    builtIn: true,
  },
];

const BUILT_IN = new Map(BUILT_IN_ROLES.map((r) => [r.name, r]));

/** The built-in role of that name, if any. */
export function builtInRole(name: string): RoleDefinition | undefined {
  return BUILT_IN.get(name);
}

/** Every principal type a role assignment can match. */
export const ROLE_PRINCIPAL_TYPES: readonly RolePrincipalType[] = ['subject', 'objectId', 'appId', 'group', 'appRole'];

/**
 * The claims each principal type reads, first present wins for single values: `subject` → `sub`; `objectId` →
 * `oid` (Entra object id); `appId` → `appid` (Entra v1), `azp` (v2 / OIDC), `client_id` (RFC 9068); `group` →
 * `groups`; `appRole` → `roles`.
 */
const CLAIMS: Readonly<Record<RolePrincipalType, readonly string[]>> = {
  subject: ['sub'],
  objectId: ['oid'],
  appId: ['appid', 'azp', 'client_id'],
  group: ['groups'],
  appRole: ['roles'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Principal ids compare exactly, except uuid-shaped ones, which compare case-insensitively. */
export function normalizePrincipalId(value: string): string {
  return UUID.test(value) ? value.toLowerCase() : value;
}

/** The values a token carries for a principal type (normalized). */
export function claimValues(claims: Readonly<Record<string, unknown>>, type: RolePrincipalType): string[] {
  for (const name of CLAIMS[type]) {
    const value = claims[name];
    if (typeof value === 'string' && value !== '') return [normalizePrincipalId(value)];
    if (Array.isArray(value)) {
      return value.filter((v): v is string => typeof v === 'string' && v !== '').map(normalizePrincipalId);
    }
  }
  return [];
}

/** The first string among claims, e.g. the app id (`appid` / `azp` / `client_id`) or user id (`oid` / `sub`). */
export function firstClaim(claims: Readonly<Record<string, unknown>>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

const ROLE_NAME = /^[a-z][a-z0-9-]{1,63}$/;

/** Checks a custom role name: lower-case kebab, 2–64 characters, not a built-in role. */
export function checkCustomRoleName(name: unknown): string {
  if (typeof name !== 'string' || !ROLE_NAME.test(name)) {
    throw new TesseraError('ERR_VALIDATION', 'Name: a role name is 2-64 lower-case letters, digits and dashes.', {
      target: 'name',
    });
  }
  if (BUILT_IN.has(name)) {
    throw new TesseraError('ERR_VALIDATION', `Name: '${name}' is a built-in role and cannot be redefined.`, {
      target: 'name',
    });
  }
  return name;
}

/** Checks a list of data action names. */
export function parseDataActions(value: unknown, field = 'actions'): DataAction[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TesseraError('ERR_VALIDATION', `Actions: must be a non-empty list of data actions.`, { target: field });
  }
  const out = new Set<DataAction>();
  for (const action of value) {
    if (typeof action !== 'string' || !(DATA_ACTIONS as readonly string[]).includes(action)) {
      const named = typeof action === 'string' && /^[a-z]{1,32}\/[a-z]{1,32}$/.test(action) ? `'${action}' ` : '';
      throw new TesseraError(
        'ERR_VALIDATION',
        `Actions: ${named}is not a data action; known: ${DATA_ACTIONS.join(', ')}.`,
        { target: field },
      );
    }
    out.add(action as DataAction);
  }
  return [...out];
}
