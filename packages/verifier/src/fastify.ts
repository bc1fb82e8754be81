import type { Capability } from '@tessera/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Verifier } from './create-verifier.js';
import { type AuthorizationRequirement, checkAuthorization } from './http/check-authorization.js';
import { errorResponse } from './http/error-response.js';
import type { VerifiedToken } from './verified-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified user access token, set by the Tessera hooks. */
    tessera: VerifiedToken | null;
  }
}

/** A Fastify hook (`onRequest` / `preHandler`) that answers 401/403/503 itself or lets the request through. */
export type TesseraFastifyHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/**
 * A hook that requires a valid token (and a capability when `requirement.capability` is set). On success
 * `request.tessera` holds the verified token; on failure the reply is sent with the mapped status,
 * `WWW-Authenticate` and ACS-style error body.
 */
export function tesseraHook(
  verifier: Verifier,
  requirement: AuthorizationRequirement<FastifyRequest> = {},
): TesseraFastifyHook {
  return async (request, reply) => {
    const outcome = await checkAuthorization(verifier, request.headers.authorization, request, requirement);
    if (outcome.ok) {
      request.tessera = outcome.token;
      return undefined;
    }
    const r = errorResponse(outcome.error);
    await reply.code(r.status).headers(r.headers).type('application/json').send(r.body);
    return reply;
  };
}

/** `tesseraHook` for one capability: `{ preHandler: requireCapability(verifier, 'chat.thread.create') }`. */
export function requireCapability(
  verifier: Verifier,
  capability: Capability,
  context?: AuthorizationRequirement<FastifyRequest>['context'],
): TesseraFastifyHook {
  return tesseraHook(verifier, context === undefined ? { capability } : { capability, context });
}

/** Options of {@link tesseraPlugin}. */
export interface TesseraPluginOptions {
  verifier: Verifier;
  /** Also require a valid token on every route of the application (an `onRequest` hook). Default false. */
  requireToken?: boolean;
}

/**
 * Decorates `request.tessera` (for V8-friendly request shapes) and optionally guards every route. Registered
 * without encapsulation, so it applies to the application it is registered on.
 */
export const tesseraPlugin: FastifyPluginAsync<TesseraPluginOptions> = async (fastify, options) => {
  fastify.decorateRequest('tessera', null);
  if (options.requireToken === true) fastify.addHook('onRequest', tesseraHook(options.verifier));
};
(tesseraPlugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(tesseraPlugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = '@tessera/verifier';
