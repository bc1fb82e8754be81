import type { FastifyInstance } from 'fastify';
import type { RevocationFeed } from '../http/revocation-feed.js';
import type { AcsRoute } from '../http/route.js';
import type { IdentityService } from '../service/identity-service.js';

/** `GET /revocations` (the server-sent revocation feed) and `GET /revocations/snapshot`, for verifiers. */
export function registerRevocationRoutes(
  app: FastifyInstance,
  acs: AcsRoute,
  deps: { readonly feed: RevocationFeed; readonly service: IdentityService },
): void {
  app.get(
    '/revocations',
    acs(
      { operation: 'revocations.feed', apiVersion: 'optional', action: 'revocations/read', audit: false },
      async (request, reply) => {
        const last = request.headers['last-event-id'];
        const parsed = typeof last === 'string' && /^\d{1,15}$/.test(last) ? Number(last) : undefined;
        // Hijacked: carry the headers every response has (api-supported-versions, request id) onto the raw stream.
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(name, value);
        }
        reply.hijack();
        await deps.feed.subscribe(reply.raw, parsed);
        return undefined;
      },
    ),
  );

  app.get(
    '/revocations/snapshot',
    acs(
      { operation: 'revocations.snapshot', apiVersion: 'optional', action: 'revocations/read', audit: false },
      async () => deps.service.revocationSnapshot(),
    ),
  );
}
