import type { FastifyInstance } from 'fastify';
import { TesseraError } from '@tessera/core';
import type { AcsRoute } from '../http/route.js';
import type { IdentityService } from '../service/identity-service.js';

/**
 * `GET /admin/identities`: the operator's listing (`tessera identities list`); ACS has no such operation. Pages
 * forward in id order (ids are time-ordered uuids, so oldest first); the continuation token is the last id of the page.
 */
export function registerAdminIdentityRoutes(app: FastifyInstance, acs: AcsRoute, service: IdentityService): void {
  app.get(
    '/admin/identities',
    acs(
      { operation: 'admin.identities.list', apiVersion: 'optional', action: 'identities/read', audit: false },
      async (request) => {
        const query = request.query as Record<string, unknown>;
        const text = (name: string) =>
          typeof query[name] === 'string' && query[name] !== '' ? query[name] : undefined;
        const size = text('maxPageSize');
        if (size !== undefined && (!/^\d{1,4}$/.test(size) || Number(size) < 1 || Number(size) > 1000)) {
          throw new TesseraError('ERR_VALIDATION', 'MaxPageSize: must be a whole number in [1, 1000].', {
            target: 'maxPageSize',
          });
        }
        const limit = size === undefined ? 100 : Number(size);
        const customId = text('customId');
        const after = text('continuationToken');
        const page = await service.list({ afterId: after, customId, limit });
        const last = page.length === limit ? page.at(-1)?.id : undefined;
        const next = new URLSearchParams({ maxPageSize: String(limit) });
        if (customId !== undefined) next.set('customId', customId);
        if (last !== undefined) next.set('continuationToken', last);
        return {
          value: page.map((identity) => ({
            id: identity.id,
            ...(identity.customId === undefined ? {} : { customId: identity.customId }),
            createdAt: new Date(identity.createdAt).toISOString(),
            ...(identity.lastTokenIssuedAt === undefined
              ? {}
              : { lastTokenIssuedAt: new Date(identity.lastTokenIssuedAt).toISOString() }),
          })),
          ...(last === undefined ? {} : { nextLink: `/admin/identities?${next.toString()}` }),
        };
      },
    ),
  );
}
