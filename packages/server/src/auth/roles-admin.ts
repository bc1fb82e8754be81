import { randomUUID } from 'node:crypto';
import { TesseraError } from '@tessera/core';
import type { RoleAssignmentRecord, RolePrincipalType, Store } from '../store/store.js';
import type { RolesRegistry } from './roles-registry.js';
import {
  checkCustomRoleName,
  normalizePrincipalId,
  parseDataActions,
  ROLE_PRINCIPAL_TYPES,
  type RoleDefinition,
} from './roles.js';

/** Options of {@link createRolesAdmin}. */
export interface RolesAdminOptions {
  readonly store: Store;
  readonly registry: RolesRegistry;
  /** The issuers this server trusts; an assignment must name one of them (catches typos such as a trailing slash). */
  readonly trustedIssuers: () => readonly string[];
  readonly clock: () => number;
}

/** Role and role-assignment management behind `/admin/roles` and `/admin/roleAssignments`. */
export interface RolesAdmin {
  roles(): Promise<readonly RoleDefinition[]>;
  assignments(): Promise<readonly RoleAssignmentRecord[]>;
  assign(body: Record<string, unknown>, actor: string): Promise<{ assignment: RoleAssignmentRecord; created: boolean }>;
  unassign(id: string): Promise<RoleAssignmentRecord>;
  define(name: string, body: Record<string, unknown>): Promise<RoleDefinition>;
  undefine(name: string): Promise<void>;
}

function text(body: Record<string, unknown>, field: string, label: string, max: number): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TesseraError('ERR_VALIDATION', `${label}: The ${label} field is required.`, { target: field });
  }
  if (value.length > max) {
    throw new TesseraError('ERR_VALIDATION', `${label}: at most ${max} characters.`, { target: field });
  }
  return value.trim();
}

function optionalText(body: Record<string, unknown>, field: string, label: string, max: number): string | undefined {
  return body[field] === undefined || body[field] === null ? undefined : text(body, field, label, max);
}

/** Creates the roles admin; every change reloads the local registry before it resolves. */
export function createRolesAdmin(options: RolesAdminOptions): RolesAdmin {
  const { store, registry } = options;
  return {
    async roles() {
      await registry.refreshIfChanged();
      return registry.roles();
    },
    async assignments() {
      await registry.refreshIfChanged();
      return registry.assignments();
    },
    async assign(body, actor) {
      const role = text(body, 'role', 'Role', 64);
      const issuer = text(body, 'issuer', 'Issuer', 512);
      const principalType = body.principalType;
      if (typeof principalType !== 'string' || !(ROLE_PRINCIPAL_TYPES as readonly string[]).includes(principalType)) {
        throw new TesseraError('ERR_VALIDATION', `PrincipalType: must be one of ${ROLE_PRINCIPAL_TYPES.join(', ')}.`, {
          target: 'principalType',
        });
      }
      const principalId = normalizePrincipalId(text(body, 'principalId', 'PrincipalId', 256));
      const description = optionalText(body, 'description', 'Description', 256);
      await registry.refreshIfChanged();
      if (registry.role(role) === undefined) {
        // Echo the input only when it is shaped like a role name: error messages never carry arbitrary input.
        const named = /^[a-z][a-z0-9-]{1,63}$/.test(role) ? `'${role}' ` : '';
        throw new TesseraError('ERR_VALIDATION', `Role: ${named}is not a built-in or custom role.`, {
          target: 'role',
        });
      }
      const trusted = options.trustedIssuers();
      if (!trusted.includes(issuer)) {
        throw new TesseraError(
          'ERR_VALIDATION',
          trusted.length === 0
            ? 'Issuer: this server trusts no issuer; start it with --trusted-issuers or --trusted-issuer.'
            : `Issuer: not a trusted issuer of this server; trusted: ${trusted.join(', ')} (compare trailing slashes).`,
          { target: 'issuer' },
        );
      }
      const result = await store.addRoleAssignment({
        id: randomUUID(),
        role,
        issuer,
        principalType: principalType as RolePrincipalType,
        principalId,
        description,
        createdAt: options.clock(),
        createdBy: actor,
      });
      await registry.reload();
      return result;
    },
    async unassign(id) {
      await registry.refreshIfChanged();
      const existing = registry.assignments().find((a) => a.id === id);
      if (existing === undefined || !(await store.removeRoleAssignment(id))) {
        throw new TesseraError('ERR_NOT_FOUND_ROUTE', 'The role assignment does not exist.', { target: 'id' });
      }
      await registry.reload();
      return existing;
    },
    async define(name, body) {
      const checked = checkCustomRoleName(name);
      const actions = parseDataActions(body.actions);
      const description = optionalText(body, 'description', 'Description', 256);
      await store.putRoleDefinition({ name: checked, description, actions, updatedAt: options.clock() });
      await registry.reload();
      return { name: checked, description: description ?? '', actions, builtIn: false };
    },
    async undefine(name) {
      const checked = checkCustomRoleName(name);
      const result = await store.removeRoleDefinition(checked);
      if (result === 'unknown') {
        throw new TesseraError('ERR_NOT_FOUND_ROUTE', `Custom role '${checked}' does not exist.`, { target: 'name' });
      }
      if (result === 'assigned') {
        throw new TesseraError(
          'ERR_VALIDATION',
          `Name: role '${checked}' is still assigned; remove its assignments first.`,
          { target: 'name' },
        );
      }
      await registry.reload();
    },
  };
}
