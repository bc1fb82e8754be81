import type { FastifyInstance, FastifyReply } from 'fastify';
import { principalLabel } from '../auth/principal.js';
import type { RolesAdmin } from '../auth/roles-admin.js';
import type { RoleDefinition } from '../auth/roles.js';
import type { AcsRoute } from '../http/route.js';
import type { RoleAssignmentRecord } from '../store/store.js';

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

/** Role and role-assignment management: `/admin/roles` and `/admin/roleAssignments` (docs/entra-oidc.md). */
export function registerRoleRoutes(app: FastifyInstance, acs: AcsRoute, roles: RolesAdmin): void {
  app.get(
    '/admin/roles',
    acs({ operation: 'admin.roles.list', apiVersion: 'optional', action: 'roles/read' }, async () => ({
      value: (await roles.roles()).map(roleBody),
    })),
  );

  app.put(
    '/admin/roles/:name',
    acs(
      { operation: 'admin.roles.define', apiVersion: 'optional', action: 'roles/write' },
      async (request, _reply, { body }) => {
        const name = (request.params as { name: string }).name;
        const role = await roles.define(name, body);
        request.auditDetail = `role=${role.name} actions=${role.actions.join(',')}`;
        return roleBody(role);
      },
    ),
  );

  app.delete(
    '/admin/roles/:name',
    acs({ operation: 'admin.roles.delete', apiVersion: 'optional', action: 'roles/write' }, async (request, reply) => {
      const name = (request.params as { name: string }).name;
      await roles.undefine(name);
      // Set once the name has proved to be a role name: user input reaches the audit log only when well-formed.
      request.auditDetail = `role=${name}`;
      return reply.code(204).send();
    }),
  );

  app.get(
    '/admin/roleAssignments',
    acs({ operation: 'admin.roleAssignments.list', apiVersion: 'optional', action: 'roles/read' }, async () => ({
      value: (await roles.assignments()).map(assignmentBody),
    })),
  );

  app.post(
    '/admin/roleAssignments',
    acs(
      { operation: 'admin.roleAssignments.create', apiVersion: 'optional', action: 'roles/write' },
      async (request, reply: FastifyReply, { principal, body }) => {
        const { assignment, created } = await roles.assign(body, principalLabel(principal));
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
        const removed = await roles.unassign(id);
        request.auditDetail = `assignment=${removed.id} role=${removed.role} principal=${removed.principalType}:${removed.principalId}`;
        return reply.code(204).send();
      },
    ),
  );
}
