import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { instrumentFastify, type Registry, type RequestMetrics, type RequestTracing } from '@tessera/metrics';
import {
  API_SUPPORTED_VERSIONS_HEADER,
  parseCustomId,
  parseExpiresInMinutes,
  parseRawId,
  parseScopes,
  resolveApiVersion,
  TesseraError,
  type ApiVersionFeatures,
  type RateLimitedOperation,
} from '@tessera/core';
import type { Authenticator } from './auth/authenticate.js';
import type { KeyRing } from './auth/key-ring.js';
import { authorize, type DataAction, type Principal, principalLabel } from './auth/principal.js';
import { accessTokenJson, JSON_CONTENT_TYPE } from './http/access-token-json.js';
import { toWireError } from './http/error-mapping.js';
import { parseJsonObject } from './http/request-body.js';
import { requestLineWriter } from './http/server-logger.js';
import type { RevocationFeed } from './http/revocation-feed.js';
import type { RateLimiter } from './limits/rate-limiter.js';
import type { IdentityService } from './service/identity-service.js';
import { formatServiceDate, type ResourceContext } from './service/resource-context.js';
import type { AccessKeyName, IdentityRecord, Store } from './store/store.js';
import type { PublicJwk } from './crypto/signing-key.js';
import { type AccessRouteDeps, registerAccessRoutes } from './routes/access-routes.js';
import { registerSigningKeyRoutes } from './routes/signing-key-routes.js';
import type { SigningKeyRing } from './crypto/signing-key-ring.js';

/** Everything {@link buildApp} needs; built by `startServer`, or by tests. */
export interface AppDeps {
  readonly service: IdentityService;
  readonly feed: RevocationFeed;
  readonly keys: KeyRing;
  readonly store: Store;
  readonly resource: ResourceContext;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Turns a request into a principal (HMAC access key, or bearer when configured). */
  readonly authenticate: Authenticator;
  /** Largest accepted request body, bytes. */
  readonly bodyLimit: number;
  readonly jwks: () => readonly PublicJwk[];
  /** Signing key listing and rotation (routes/signing-key-routes.ts); without it those routes are absent. */
  readonly signingKeys?: SigningKeyRing | undefined;
  /** The public endpoint (`http://host:port/`) for discovery and connection strings; resolved after listen. */
  readonly endpoint: () => string;
  readonly regenerateKey: (name: 'primary' | 'secondary' | 'verifier') => Promise<void>;
  readonly rateLimiter: RateLimiter;
  /** Serve HTTPS with this certificate chain and key (PEM). */
  readonly https?: { readonly cert: string; readonly key: string } | undefined;
  /** Roles, audit log and token exchange (routes/access-routes.ts); without it those routes are absent. */
  readonly access?: AccessRouteDeps | undefined;
  /** Request metrics and spans (metrics/server-metrics.ts); without it nothing is counted. */
  readonly metrics?: AppMetrics | undefined;
}

/** The metrics {@link buildApp} records, and whether it serves them on the main port. */
export interface AppMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  readonly tracing: RequestTracing;
  /** Serve `GET /metrics` here to callers holding `metrics/read` (the verifier key, a `metrics-reader` role). */
  readonly onApiPort: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody: Buffer | undefined;
    startedAt: bigint;
    clientRequestId: string;
    operation: string | undefined;
    identityId: string | undefined;
    principal: Principal | undefined;
    /** Set by `acs()` on routes that write an audit entry. */
    audited: boolean | 'failures' | undefined;
    /** The Tessera error code answered, for the audit log. */
    errorCode: string | undefined;
  }
}

/** Options of one ACS-style route (see `acs()` in {@link buildApp}). */
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

/** The `acs()` route wrapper of {@link buildApp}, handed to route modules such as routes/access-routes.ts. */
export type AcsRoute = (
  options: AcsRouteOptions,
  handler: (request: FastifyRequest, reply: FastifyReply, ctx: AcsContext) => Promise<unknown>,
) => (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

function identityBody(identity: IdentityRecord, version: ApiVersionFeatures): Record<string, unknown> {
  if (!version.customIdAndGet) return { id: identity.id };
  const out: Record<string, unknown> = { id: identity.id };
  if (identity.customId !== undefined) out.customId = identity.customId;
  if (identity.lastTokenIssuedAt !== undefined) out.lastTokenIssuedAt = formatServiceDate(identity.lastTokenIssuedAt);
  return out;
}

/** Builds the Fastify app (routes, auth, errors, logging) without listening — `app.inject()` works on it. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit,
    return503OnClosing: true,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    ...(deps.https === undefined ? {} : { https: { cert: deps.https.cert, key: deps.https.key } }),
  }) as unknown as FastifyInstance;

  // Every per-request field declared up front, so each request object has one shape from its construction (V8
  // then keeps property access monomorphic; adding them as they are set made a new hidden-class chain per path).
  for (const field of [
    'rawBody',
    'clientRequestId',
    'operation',
    'identityId',
    'principal',
    'audited',
    'errorCode',
    'auditDetail',
  ] as const) {
    app.decorateRequest(field, undefined);
  }
  app.decorateRequest('startedAt', 0n);

  // Metrics: one onResponse hook (Fastify times every reply); the operation is the route's name, never its URL.
  const metrics = deps.metrics;
  const tracing = metrics?.tracing.enabled === true ? metrics.tracing : undefined;
  if (metrics !== undefined) {
    instrumentFastify(app, {
      metrics: metrics.requests,
      tracing,
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
  // --log-level debug: one more line per request at the decision points (who authenticated with which key, which
  // data action and rate limit allowed it, or why it was refused). Codes and labels only, never a secret or URL.
  const debugLog = deps.logger.isLevelEnabled('debug');
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
  app.addHook('onSend', (request, reply, payload, done) => {
    const audited = request.audited === true || (request.audited === 'failures' && reply.statusCode >= 400);
    if (audited && deps.access !== undefined) {
      request.audited = false;
      deps.access.audit.record({
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

  const idParam = (request: FastifyRequest): string => {
    const id = (request.params as { id: string }).id;
    // Only a well-formed id reaches logs and audit: a token pasted where the id belongs must never be written.
    try {
      request.identityId = parseRawId(id).rawId;
    } catch {
      request.identityId = undefined;
    }
    return id;
  };

  app.post(
    '/identities',
    acs(
      { operation: 'identity.create', apiVersion: 'required', action: 'identities/create', rateLimit: 'create' },
      async (request, reply, { version, principal, body }) => {
        const scopesGiven = body.createTokenWithScopes;
        const scopes =
          scopesGiven === undefined || scopesGiven === null
            ? undefined
            : parseScopes(scopesGiven, { allowed: version.scopes, field: 'createTokenWithScopes' });
        const lifetimeMinutes = version.customExpiry ? parseExpiresInMinutes(body.expiresInMinutes) : 1440;
        const customId = version.customIdAndGet ? parseCustomId(body.customId) : undefined;
        const repeat = request.headers['repeatability-request-id'];
        let requestKey: string | undefined;
        if (version.repeatability && typeof repeat === 'string' && repeat !== '') {
          if (!/^[0-9a-f-]{36}$/i.test(repeat)) {
            throw new TesseraError('ERR_VALIDATION', 'Repeatability-Request-ID must be a UUID.', {
              target: 'Repeatability-Request-ID',
            });
          }
          requestKey = repeat.toLowerCase();
        }
        const result = await deps.service.create({ customId, requestKey, scopes, lifetimeMinutes, principal });
        request.identityId = result.identity.id;
        if (requestKey !== undefined) reply.header('repeatability-result', result.created ? 'accepted' : 'rejected');
        const out: Record<string, unknown> = { identity: identityBody(result.identity, version) };
        if (result.accessToken !== undefined) out.accessToken = result.accessToken;
        return reply.code(201).send(out);
      },
    ),
  );

  app.get(
    '/identities/:id',
    acs(
      { operation: 'identity.get', apiVersion: 'required', action: 'identities/read', requires: 'customIdAndGet' },
      async (request, _reply, { version }) => identityBody(await deps.service.get(idParam(request)), version),
    ),
  );

  app.delete(
    '/identities/:id',
    acs(
      { operation: 'identity.delete', apiVersion: 'required', action: 'identities/delete', rateLimit: 'delete' },
      async (request, reply) => {
        await deps.service.delete(idParam(request));
        return reply.code(204).send();
      },
    ),
  );

  app.post(
    '/identities/:id/::revokeAccessTokens',
    acs(
      { operation: 'identity.revokeTokens', apiVersion: 'required', action: 'tokens/revoke', rateLimit: 'revoke' },
      async (request, reply) => {
        await deps.service.revoke(idParam(request));
        return reply.code(204).send();
      },
    ),
  );

  app.post(
    '/identities/:id/::issueAccessToken',
    acs(
      // Only refused issues are audited: successful ones are the hot path and would swamp the log; each still
      // writes its request log line (operation, identity, principal, status).
      {
        operation: 'identity.issueToken',
        apiVersion: 'required',
        action: 'tokens/issue',
        rateLimit: 'issue',
        audit: 'failures',
      },
      (request, reply, { version, principal, body }) => {
        const id = idParam(request);
        const scopes = parseScopes(body.scopes, { allowed: version.scopes, field: 'scopes' });
        const lifetimeMinutes = version.customExpiry ? parseExpiresInMinutes(body.expiresInMinutes) : 1440;
        // The hot path's body is written out here: Fastify sends a JSON string as it is, without its serializer.
        return deps.service.issue(id, scopes, lifetimeMinutes, principal).then((accessToken) => {
          reply.type(JSON_CONTENT_TYPE);
          return accessTokenJson(accessToken);
        });
      },
    ),
  );

  app.post(
    '/tokens/::introspect',
    acs(
      { operation: 'token.introspect', apiVersion: 'optional', action: 'tokens/introspect', audit: false },
      async (_request, _reply, { body }) => {
        if (typeof body.token !== 'string') {
          throw new TesseraError('ERR_VALIDATION', 'Token: The Token field is required.', { target: 'token' });
        }
        return deps.service.introspect(body.token);
      },
    ),
  );

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
      async () => deps.store.revocationSnapshot(),
    ),
  );

  // The operator's listing (`tessera identities list`); ACS has no such operation. Pages forward in id order (ids
  // are time-ordered uuids, so oldest first); the continuation token is the last id of the page.
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
        const page = await deps.store.listIdentities({ afterId: after, customId, limit });
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

  const keysBody = () => {
    const endpoint = deps.endpoint();
    const get = (name: AccessKeyName) => deps.keys.get(name)?.base64 ?? '';
    const cs = (name: AccessKeyName) => `endpoint=${endpoint};accesskey=${get(name)}`;
    return {
      primaryKey: get('primary'),
      secondaryKey: get('secondary'),
      verifierKey: get('verifier'),
      primaryConnectionString: cs('primary'),
      secondaryConnectionString: cs('secondary'),
      verifierConnectionString: cs('verifier'),
    };
  };

  app.get(
    '/admin/keys',
    acs({ operation: 'admin.keys.list', apiVersion: 'optional', action: 'keys/read' }, async () => keysBody()),
  );

  app.post(
    '/admin/keys/::regenerate',
    acs(
      { operation: 'admin.keys.regenerate', apiVersion: 'optional', action: 'keys/write' },
      async (request, _reply, { body }) => {
        const key = body.key;
        if (key !== 'primary' && key !== 'secondary' && key !== 'verifier') {
          throw new TesseraError('ERR_VALIDATION', "Key: must be 'primary', 'secondary' or 'verifier'.", {
            target: 'key',
          });
        }
        request.auditDetail = `key=${key}`;
        await deps.regenerateKey(key);
        return keysBody();
      },
    ),
  );

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return { keys: deps.jwks() };
  });

  app.get('/.well-known/openid-configuration', async () => {
    const endpoint = deps.endpoint();
    return {
      issuer: deps.resource.issuer,
      jwks_uri: `${endpoint}.well-known/jwks.json`,
      introspection_endpoint: `${endpoint}tokens/:introspect`,
      revocation_feed_endpoint: `${endpoint}revocations`,
      tessera_audience: deps.resource.audience,
      tessera_resource_id: deps.resource.resourceId,
      id_token_signing_alg_values_supported: ['ES256'],
      token_contract_version: 1,
    };
  });

  if (deps.access !== undefined) registerAccessRoutes(app, acs, deps.access);
  if (deps.signingKeys !== undefined) registerSigningKeyRoutes(app, acs, deps.signingKeys);

  if (metrics?.onApiPort === true) {
    app.get(
      '/metrics',
      acs(
        { operation: 'metrics.scrape', apiVersion: 'optional', action: 'metrics/read', audit: false },
        async (_request, reply) => {
          const text = await metrics.registry.metrics();
          return reply.type(metrics.registry.contentType).send(text);
        },
      ),
    );
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.store.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'store unreachable' });
    }
  });

  return app;
}
