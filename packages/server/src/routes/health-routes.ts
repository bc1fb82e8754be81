import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../service/identity-service.js';

/** `GET /healthz` (the process answers) and `GET /readyz` (the store answers too); unauthenticated. */
export function registerHealthRoutes(app: FastifyInstance, service: IdentityService): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await service.ready();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'store unreachable' });
    }
  });
}
