import { TesseraError } from '@tessera/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AcsRoute } from '../app.js';
import type { AuditLog } from '../audit/audit-log.js';
import { principalLabel } from '../auth/principal.js';
import type { RolesAdmin } from '../auth/roles-admin.js';
import type { RoleDefinition } from '../auth/roles.js';
import type { TokenExchange } from '../auth/token-exchange.js';
import type { AuditRecord, RoleAssignmentRecord } from '../store/store.js';

/** What the Entra ID / OIDC routes need: role management, the audit log and the token exchange. */
export interface AccessRouteDeps {
  readonly roles: RolesAdmin;
  readonly audit: AuditLog;
  readonly exchange: TokenExchange;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A short, secret-free fact about the call for the audit log (`role=reader`, `key=primary`). */
    auditDetail: string | undefined;
  }
}

/** Most audit entries one request returns. */
export const MAX_AUDIT_PAGE = 1000;

function roleBody(role: RoleDefinition): Record<string, unknown> {
  return { name: role.name, description: role.description, actions: role.actions, builtIn: role.builtIn };
}

function assignmentBody(a: RoleAssignmentRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: a.id,
    role: a.role,
    issuer: a.issuer,
    principalType: a.principalType,
    principalId: a.principalId,
    createdAt: new Date(a.createdAt).toISOString(),
    createdBy: a.createdBy,
  };
  if (a.description !== undefined) out.description = a.description;
  return out;
}

function auditBody(r: AuditRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    operation: r.operation,
    outcome: r.outcome,
    status: r.status,
    requestId: r.requestId,
  };
  if (r.identityId !== undefined) out.identityId = r.identityId;
  if (r.code !== undefined) out.code = r.code;
  if (r.detail !== undefined) out.detail = r.detail;
  return out;
}

function queryString(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Parses `since`: Unix milliseconds or an ISO-8601 date. */
export function parseSince(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new TesseraError('ERR_VALIDATION', 'Since: must be Unix milliseconds or an ISO-8601 date.', {
      target: 'since',
    });
  }
  return ms;
}

function parseCount(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new TesseraError('ERR_VALIDATION', `${name}: must be a whole number in [1, ${max}].`, {
      target: name.toLowerCase(),
    });
  }
  return Number(value);
}

/**
 * Registers the routes of Entra ID / OpenID Connect access: role and role-assignment management
 * (`/admin/roles`, `/admin/roleAssignments`), the audit log (`/admin/audit`) and the token exchange
 * (`POST /teamsUser/:exchangeAccessToken`). Every route goes through the app's `acs()` wrapper, so
 * authentication, data-action authorization, rate limits, errors and auditing are the same as elsewhere.
 */
export function registerAccessRoutes(app: FastifyInstance, acs: AcsRoute, deps: AccessRouteDeps): void {
  app.post(
    '/teamsUser/::exchangeAccessToken',
    acs(
      {
        operation: 'token.exchange',
        apiVersion: 'required',
        requires: 'teamsExchange',
        action: 'tokens/exchange',
        rateLimit: 'exchange',
      },
      async (request, _reply, { principal, body }) => {
        const result = await deps.exchange.exchange(body, principal);
        request.identityId = result.identityId;
        return result.accessToken;
      },
    ),
  );

  app.get(
    '/admin/roles',
    acs({ operation: 'admin.roles.list', apiVersion: 'optional', action: 'roles/read' }, async () => ({
      value: (await deps.roles.roles()).map(roleBody),
    })),
  );

  app.put(
    '/admin/roles/:name',
    acs(
      { operation: 'admin.roles.define', apiVersion: 'optional', action: 'roles/write' },
      async (request, _reply, { body }) => {
        const name = (request.params as { name: string }).name;
        const role = await deps.roles.define(name, body);
        request.auditDetail = `role=${role.name} actions=${role.actions.join(',')}`;
        return roleBody(role);
      },
    ),
  );

  app.delete(
    '/admin/roles/:name',
    acs({ operation: 'admin.roles.delete', apiVersion: 'optional', action: 'roles/write' }, async (request, reply) => {
      const name = (request.params as { name: string }).name;
      await deps.roles.undefine(name);
      // Set once the name has proved to be a role name: user input reaches the audit log only when well-formed.
      request.auditDetail = `role=${name}`;
      return reply.code(204).send();
    }),
  );

  app.get(
    '/admin/roleAssignments',
    acs({ operation: 'admin.roleAssignments.list', apiVersion: 'optional', action: 'roles/read' }, async () => ({
      value: (await deps.roles.assignments()).map(assignmentBody),
    })),
  );

  app.post(
    '/admin/roleAssignments',
    acs(
      { operation: 'admin.roleAssignments.create', apiVersion: 'optional', action: 'roles/write' },
      async (request, reply: FastifyReply, { principal, body }) => {
        const { assignment, created } = await deps.roles.assign(body, principalLabel(principal));
        request.auditDetail = `assignment=${assignment.id} role=${assignment.role} principal=${assignment.principalType}:${assignment.principalId}`;
        return reply.code(created ? 201 : 200).send(assignmentBody(assignment));
      },
    ),
  );

  app.delete(
    '/admin/roleAssignments/:assignmentId',
    acs(
      { operation: 'admin.roleAssignments.delete', apiVersion: 'optional', action: 'roles/write' },
      async (request, reply) => {
        const id = (request.params as { assignmentId: string }).assignmentId;
        const removed = await deps.roles.unassign(id);
        request.auditDetail = `assignment=${removed.id} role=${removed.role} principal=${removed.principalType}:${removed.principalId}`;
        return reply.code(204).send();
      },
    ),
  );

  app.get(
    '/admin/audit',
    acs({ operation: 'admin.audit.list', apiVersion: 'optional', action: 'audit/read' }, async (request) => {
      const limit = parseCount(queryString(request, 'limit'), 'Limit', 100, MAX_AUDIT_PAGE);
      const before = queryString(request, 'before');
      const records = await deps.audit.list({
        identityId: queryString(request, 'identity'),
        since: parseSince(queryString(request, 'since')),
        beforeSeq: before === undefined ? undefined : parseCount(before, 'Before', 1, Number.MAX_SAFE_INTEGER),
        limit,
      });
      const last = records.at(-1);
      return {
        value: records.map(auditBody),
        ...(records.length === limit && last !== undefined ? { nextBefore: last.seq } : {}),
      };
    }),
  );
}
