import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { instrumentFastify, type RequestMetrics, type RequestTracing } from '@tessera/metrics';
import { API_SUPPORTED_VERSIONS_HEADER } from '@tessera/core';
import type { AuditLog } from '../audit/audit-log.js';
import { principalLabel } from '../auth/principal.js';
import { requestLineWriter } from './server-logger.js';
import './request-fields.js';

/** Dependencies of {@link installRequestHooks}. */
export interface RequestHooksDeps {
  readonly logger: Logger;
  readonly clock: () => number;
  /** Where audited calls are recorded; without it nothing is audited. */
  readonly audit: AuditLog | undefined;
  /** Request metrics; without them nothing is counted. */
  readonly metrics: RequestMetrics | undefined;
  /** Request spans, when tracing is on. */
  readonly tracing: RequestTracing | undefined;
}

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Installs what runs around every request: metrics, the raw-body parser, the request id and api-supported-versions
 * headers, the request log line and the audit entry.
 */
export function installRequestHooks(app: FastifyInstance, deps: RequestHooksDeps): void {
  // Metrics: one onResponse hook (Fastify times every reply); the operation is the route's name, never its URL.
  if (deps.metrics !== undefined) {
    instrumentFastify(app, {
      metrics: deps.metrics,
      tracing: deps.tracing,
      operationOf: (request) => request.operation ?? `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
      errorCodeOf: (request) => request.errorCode,
    });
  }

  // Keep the exact bytes: HMAC covers them, and JSON is parsed by the route, so errors stay ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, undefined);
  });

  // Hooks take Fastify's callback form, not async: an async hook costs a promise per request on the hot path.
  // One log line per request at level info; below it (the level is fixed for the process) no hook runs at all.
  const requestLog = deps.logger.isLevelEnabled('info');
  const writeRequestLine = requestLineWriter(deps.logger);
  app.addHook('onRequest', (request, reply, done) => {
    if (requestLog) request.startedAt = process.hrtime.bigint();
    const given = request.headers['x-ms-client-request-id'];
    const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    request.clientRequestId = id;
    reply.header('x-ms-client-request-id', id);
    reply.header('api-supported-versions', API_SUPPORTED_VERSIONS_HEADER);
    done();
  });

  if (requestLog)
    app.addHook('onResponse', (request, reply, done) => {
      done();
      const latencyMs = Number(process.hrtime.bigint() - request.startedAt) / 1e6;
      // One line per request. The URL is not logged: the identity id is, and nothing secret is.
      writeRequestLine({
        op: request.operation ?? `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
        identityId: request.identityId,
        status: reply.statusCode,
        latencyMs: Math.round(latencyMs * 1000) / 1000,
        requestId: request.clientRequestId,
        principal: request.principal === undefined ? undefined : principalLabel(request.principal),
      });
    });

  // Audit entries are recorded as the reply is sent (not on 'finish'), so once a caller has its answer the entry
  // is buffered, and a shutdown right after still flushes it.
  const audit = deps.audit;
  app.addHook('onSend', (request, reply, payload, done) => {
    const audited = request.audited === true || (request.audited === 'failures' && reply.statusCode >= 400);
    if (audited && audit !== undefined) {
      request.audited = false;
      audit.record({
        at: deps.clock(),
        actor: request.principal === undefined ? 'unauthenticated' : principalLabel(request.principal),
        operation: request.operation ?? 'unknown',
        identityId: request.identityId,
        outcome: reply.statusCode < 400 ? 'success' : 'failure',
        status: reply.statusCode,
        code: request.errorCode,
        requestId: request.clientRequestId,
        detail: request.auditDetail,
      });
    }
    done(null, payload);
  });
}
