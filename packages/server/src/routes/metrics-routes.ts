import type { FastifyInstance } from 'fastify';
import type { Registry } from '@tessera/metrics';
import type { AcsRoute } from '../http/route.js';

/** `GET /metrics` on the API port, to callers holding `metrics/read` (the verifier key, a `metrics-reader` role). */
export function registerMetricsRoutes(app: FastifyInstance, acs: AcsRoute, registry: Registry): void {
  app.get(
    '/metrics',
    acs(
      { operation: 'metrics.scrape', apiVersion: 'optional', action: 'metrics/read', audit: false },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    ),
  );
}
