import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenServiceError } from '../errors/token-service-error.js';

/** CORS settings: an allow-list, never a reflected wildcard. */
export interface CorsPolicy {
  readonly origins: ReadonlySet<string>;
  readonly anyOrigin: boolean;
  readonly credentials: boolean;
}

function sameOrigin(request: FastifyRequest, origin: string): boolean {
  const host = request.headers.host;
  if (host === undefined) return false;
  try {
    const o = new URL(origin);
    return o.host === host && `${o.protocol.slice(0, -1)}` === request.protocol;
  } catch {
    return false;
  }
}

/**
 * Applies CORS to one request. No `Origin` (a server, curl) or the service's own origin (the demo page): nothing
 * to do. An allowed origin gets `Access-Control-Allow-Origin` naming it (plus `Vary: Origin`). Any other origin is
 * refused with 403 and no CORS headers, before any work is done — so a page elsewhere cannot even make the
 * service create guest identities it could not read.
 */
export function applyCors(request: FastifyRequest, reply: FastifyReply, cors: CorsPolicy): void {
  reply.header('vary', 'Origin');
  const origin = request.headers.origin;
  if (origin === undefined || sameOrigin(request, origin)) return;
  if (!cors.anyOrigin && !cors.origins.has(origin)) {
    throw new TokenServiceError('ERR_ORIGIN_NOT_ALLOWED', 'This origin is not allowed to call the token service.');
  }
  reply.header('access-control-allow-origin', cors.anyOrigin ? '*' : origin);
  if (cors.credentials) reply.header('access-control-allow-credentials', 'true');
  reply.header('access-control-expose-headers', 'Retry-After');
  if (request.method === 'OPTIONS') {
    reply.header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS');
    reply.header('access-control-allow-headers', 'Authorization, Content-Type');
    reply.header('access-control-max-age', '600');
  }
}
