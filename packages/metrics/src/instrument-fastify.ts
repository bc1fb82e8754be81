import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestMetrics } from './request-metrics.js';
import type { RequestTracing } from './request-tracing.js';

/** Options of {@link instrumentFastify}. */
export interface InstrumentFastifyOptions {
  readonly metrics?: RequestMetrics | undefined;
  readonly tracing?: RequestTracing | undefined;
  /** The operation label of a request: a route name, never the raw URL (default: method and route pattern). */
  readonly operationOf?: (request: FastifyRequest) => string;
  /** The error code answered, for the span (optional). */
  readonly errorCodeOf?: (request: FastifyRequest, reply: FastifyReply) => string | undefined;
}

/** `GET /identities/:id` for a request: the route's pattern, or `unmatched` (404s of unknown paths). */
export function routeOperation(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
}

/**
 * Adds the request metrics and spans to an app with callback-style hooks (an async hook costs a promise per
 * request): one `onResponse` hook for the metrics (Fastify times every reply anyway), plus an `onRequest` hook only
 * when tracing is enabled.
 */
export function instrumentFastify(app: FastifyInstance, options: InstrumentFastifyOptions): void {
  const { metrics, tracing } = options;
  const operationOf = options.operationOf ?? routeOperation;
  const traced = tracing?.enabled === true ? tracing : undefined;
  if (traced !== undefined) {
    app.addHook('onRequest', (request, _reply, done) => {
      traced.start(request);
      done();
    });
  }
  if (metrics === undefined && traced === undefined) return;
  app.addHook('onResponse', (request, reply, done) => {
    done();
    const operation = operationOf(request);
    metrics?.observe(operation, reply.statusCode, reply.elapsedTime / 1000);
    traced?.end(request, operation, reply.statusCode, options.errorCodeOf?.(request, reply));
  });
}
