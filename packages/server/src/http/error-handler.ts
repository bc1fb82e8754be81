import { TesseraError } from '@tessera/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { principalLabel } from '../auth/principal.js';
import { toWireError } from './error-mapping.js';
import './request-fields.js';

/** Dependencies of {@link installErrorHandling}. */
export interface ErrorHandlingDeps {
  readonly logger: Logger;
  /** Largest accepted request body, bytes (named in the 413 message). */
  readonly bodyLimit: number;
}

/**
 * Answers every error as the ACS wire error body (http/error-mapping.ts): Tessera errors, Fastify's body-size and
 * media-type refusals, malformed requests and unmatched routes. 5xx are logged by name and code only.
 */
export function installErrorHandling(app: FastifyInstance, deps: ErrorHandlingDeps): void {
  // --log-level debug: one line per refused request (codes and labels only, never a secret or URL).
  const debugLog = deps.logger.isLevelEnabled('debug');

  const sendError = (reply: FastifyReply, error: unknown): FastifyReply => {
    const { status, body } = toWireError(error);
    reply.request.errorCode = body.error.innererror.code;
    const retryAfter = error instanceof TesseraError ? error.details?.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    if (debugLog && status < 500) {
      const request = reply.request;
      deps.logger.debug(
        {
          op: request.operation,
          requestId: request.clientRequestId,
          status,
          code: body.error.innererror.code,
          principal: request.principal === undefined ? 'unauthenticated' : principalLabel(request.principal),
          action: error instanceof TesseraError ? error.details?.action : undefined,
          retryAfterSeconds: retryAfter,
        },
        'request refused',
      );
    }
    // A store outage is logged once by the store's availability tracker (start-server.ts), not per request.
    if (status >= 500 && body.error.innererror.code !== 'ERR_STORE_UNAVAILABLE')
      deps.logger.error(
        { err: error instanceof Error ? error.name : 'unknown', code: body.error.innererror.code },
        'request failed',
      );
    return reply.code(status).type('application/json').send(body);
  };

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (error instanceof TesseraError) return sendError(reply, error);
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(
          reply,
          new TesseraError('ERR_BODY_TOO_LARGE', `The request body is larger than ${deps.bodyLimit} bytes.`),
        );
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(
          reply,
          new TesseraError('ERR_UNSUPPORTED_MEDIA_TYPE', 'The request content type is not supported.'),
        );
      default:
        if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
          return sendError(reply, new TesseraError('ERR_BODY_MALFORMED', 'The request is malformed.'));
        }
        return sendError(reply, error);
    }
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new TesseraError('ERR_NOT_FOUND_ROUTE', `No resource matches ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}
