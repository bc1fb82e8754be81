import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { RequestTracing } from '@tessera/metrics';
import {
  parseRawId,
  resolveApiVersion,
  TesseraError,
  type ApiVersionFeatures,
  type RateLimitedOperation,
} from '@tessera/core';
import type { Authenticator } from '../auth/authenticate.js';
import { authorize, type DataAction, type Principal, principalLabel } from '../auth/principal.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { parseJsonObject } from './request-body.js';
import './request-fields.js';

/** Options of one ACS-style route (see {@link createAcsRoute}). */
export interface AcsRouteOptions {
  /** Operation name for logs and metrics. */
  readonly operation: string;
  /** The api-version must have this feature. */
  readonly requires?: keyof Pick<ApiVersionFeatures, 'customIdAndGet' | 'teamsExchange'>;
  /** ACS routes require api-version; Tessera's own accept any supported one or none. */
  readonly apiVersion: 'required' | 'optional';
  /** The data action the caller must hold. */
  readonly action: DataAction;
  /** The operation's rate limit bucket, if it has one. */
  readonly rateLimit?: RateLimitedOperation;
  /** Whether each call is recorded in the audit log (default true; the verifiers' read paths opt out). */
  readonly audit?: boolean | 'failures';
}

/** What an ACS-style route handler receives after api-version, authentication and authorization. */
export interface AcsContext {
  readonly version: ApiVersionFeatures;
  readonly principal: Principal;
  readonly body: Record<string, unknown>;
}

/** The `acs()` route wrapper built by {@link createAcsRoute}, handed to every module of routes/. */
export type AcsRoute = (
  options: AcsRouteOptions,
  handler: (request: FastifyRequest, reply: FastifyReply, ctx: AcsContext) => Promise<unknown>,
) => (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Dependencies of {@link createAcsRoute}. */
export interface AcsRouteDeps {
  /** Turns a request into a principal (HMAC access key, or bearer when configured). */
  readonly authenticate: Authenticator;
  readonly rateLimiter: RateLimiter;
  readonly logger: Logger;
  /** Request spans, when tracing is on. */
  readonly tracing: RequestTracing | undefined;
}

/**
 * The `:id` route parameter, recorded on the request as the identity for logs and audit when it is well-formed.
 * Only a well-formed id reaches logs and audit: a token pasted where the id belongs must never be written.
 */
export function idParam(request: FastifyRequest): string {
  const id = (request.params as { id: string }).id;
  try {
    request.identityId = parseRawId(id).rawId;
  } catch {
    request.identityId = undefined;
  }
  return id;
}

/** Builds the `acs()` wrapper: api-version, authentication, authorization, rate limit and JSON body per route. */
export function createAcsRoute(deps: AcsRouteDeps): AcsRoute {
  const tracing = deps.tracing;
  // --log-level debug: one more line per request at the decision points (who authenticated with which key, which
  // data action and rate limit allowed it). Codes and labels only, never a secret or URL.
  const debugLog = deps.logger.isLevelEnabled('debug');

  /** Wraps an ACS-style route: api-version, HMAC authentication, JSON body, errors. */
  const acs = (
    options: AcsRouteOptions,
    handler: (request: FastifyRequest, reply: FastifyReply, ctx: AcsContext) => Promise<unknown>,
  ) => {
    // After authentication: identity for the audit, authorization, rate limit, then the handler.
    const proceed = (
      request: FastifyRequest,
      reply: FastifyReply,
      version: ApiVersionFeatures,
      principal: Principal,
    ) => {
      request.principal = principal;
      // Known before authorization, so a denied call is audited with the identity it aimed at (well-formed ids only).
      if (typeof (request.params as Record<string, unknown> | undefined)?.id === 'string') idParam(request);
      authorize(principal, options.action);
      if (options.rateLimit !== undefined) deps.rateLimiter.take(principalLabel(principal), options.rateLimit);
      if (debugLog) {
        deps.logger.debug(
          {
            op: options.operation,
            requestId: request.clientRequestId,
            principal: principalLabel(principal),
            keyVersion: principal.kind === 'accessKey' ? principal.key.version : undefined,
            action: options.action,
            rateLimit: options.rateLimit === undefined ? 'none' : `${options.rateLimit} allowed`,
          },
          'request authorized',
        );
      }
      return handler(request, reply, { version, principal, body: parseJsonObject(request.rawBody) });
    };
    // Not async: HMAC answers synchronously, and then the route's promise is the handler's own (no extra promise and
    // ticks per request). A synchronous throw is answered by Fastify like a rejection.
    const route = (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      request.operation = options.operation;
      request.audited = options.audit ?? true;
      const query = request.query as Record<string, unknown>;
      const given = typeof query['api-version'] === 'string' ? (query['api-version'] as string) : undefined;
      const version =
        options.apiVersion === 'optional' && given === undefined
          ? resolveApiVersion('2025-06-30', request.url)
          : resolveApiVersion(given, request.url);
      if (options.requires !== undefined && !version[options.requires]) {
        throw new TesseraError(
          'ERR_UNSUPPORTED_API_VERSION',
          `The HTTP resource that matches the request URI '${request.url}' does not support the API version '${version.version}'.`,
          { target: 'api-version' },
        );
      }
      const authenticated = deps.authenticate({
        method: request.method,
        rawUrl: request.raw.url ?? request.url,
        headers: request.headers,
        body: request.rawBody ?? Buffer.alloc(0),
        localPort: request.socket.localPort,
      });
      // Only bearer tokens (OIDC keys) may need to wait.
      return authenticated instanceof Promise
        ? authenticated.then((principal) => proceed(request, reply, version, principal))
        : proceed(request, reply, version, authenticated);
    };
    // With tracing, the handler runs inside the request's span, so store and signing spans become its children.
    return tracing === undefined
      ? route
      : (request: FastifyRequest, reply: FastifyReply) => tracing.within(request, () => route(request, reply));
  };
  return acs;
}
