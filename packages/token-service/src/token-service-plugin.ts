import { randomUUID } from 'node:crypto';
import { DEFAULT_PREVIEW_API_VERSION, IdentityClient } from '@tessera/client';
import { type RateLimit, TESSERA_API_VERSION, TesseraError, isTesseraError } from '@tessera/core';
import { instrumentFastify } from '@tessera/metrics';
import { createOidcVerifier } from '@tessera/oidc';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppUser } from './auth/app-principal.js';
import {
  type ResolvedTokenServiceOptions,
  type TokenServiceOptions,
  resolveTokenServiceOptions,
} from './config/token-service-options.js';
import { createTokenBox } from './crypto/token-box.js';
import { registerDemoRoutes } from './demo/demo-routes.js';
import { TokenServiceError, isTokenServiceError, toErrorResponse } from './errors/token-service-error.js';
import { type Caller, authenticateCaller, verifyAppToken } from './http/authenticate.js';
import { applyCors } from './http/cors.js';
import { type KeyBuckets, createKeyBuckets, createStoreKeyBuckets } from './limits/key-buckets.js';
import { customIdFor } from './mapping/custom-id.js';
import { type IssuedToken, type StartedSession, createIdentityBroker } from './mapping/identity-broker.js';
import { type SweepResult, sweepEphemeralIdentities } from './mapping/sweep-ephemeral-identities.js';
import {
  type Grant,
  type TokenRequest,
  grantFromRule,
  matchRule,
  parseRequestedLifetime,
  parseRequestedScopes,
  resolveGrant,
} from './policy/resolve-grant.js';
import { openPostgresTokenServiceStore } from './store/postgres-token-service-store.js';
import { openTokenServiceStore } from './store/token-service-store.js';

/** Per-request facts for the one log line (never a token, secret or claim). */
interface RequestFacts {
  readonly startedAt: bigint;
  caller?: string;
  identityId?: string;
}

/** The token service's handle on a mounted instance: run the sweeper by hand (tests, cron jobs). */
export interface TokenServiceHandle {
  /** Deletes the identities of expired ephemeral sessions now, as of `now` (default: the service clock). */
  sweep(now?: number): Promise<SweepResult>;
  readonly options: ResolvedTokenServiceOptions;
}

/** Plugin options: the token service's options plus a callback that receives its handle. */
export interface TokenServicePluginOptions extends TokenServiceOptions {
  /** Called once the plugin is set up, with the handle to sweep by hand. */
  readonly onReady?: (handle: TokenServiceHandle) => void;
}

const TOKEN_TYPES = new Set([
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:access_token',
  'urn:ietf:params:oauth:token-type:jwt',
]);

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new TokenServiceError('ERR_BODY_MALFORMED', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function tokenRequestFrom(source: Record<string, unknown>): TokenRequest {
  return {
    scopes: parseRequestedScopes(source.scopes ?? source.scope),
    expiresInMinutes: parseRequestedLifetime(source.expiresInMinutes),
  };
}

function identityBody(identityId: string, mode: 'stable' | 'ephemeral') {
  return { acsUserIdentity: identityId, user: { communicationUserId: identityId }, identity: mode };
}

function tokenBody(issued: IssuedToken, grant: Grant, started?: StartedSession) {
  return {
    token: issued.token,
    expiresOn: issued.expiresOn.toISOString(),
    user: { communicationUserId: issued.identityId },
    scopes: grant.scopes,
    policyRule: grant.rule.name,
    identity: grant.rule.identity,
    ...(started === undefined
      ? {}
      : { session: { secret: started.secret, refreshUntil: new Date(started.session.maxUntil).toISOString() } }),
  };
}

/**
 * The trusted token service as a Fastify plugin: `app.register(tokenServicePlugin, { identity, policy, issuers })`,
 * optionally with a `prefix`. Routes: `GET|POST|DELETE /api/user`, `GET /api/token`, `POST /api/token/refresh`,
 * `POST /api/token/exchange`, `GET /healthz`, and the demo page when enabled.
 */
export async function tokenServicePlugin(app: FastifyInstance, options: TokenServicePluginOptions): Promise<void> {
  const resolved = resolveTokenServiceOptions(options);
  const clock = options.clock ?? Date.now;
  const log = options.logger ?? app.log;
  // The Tessera api-version only when a rule grants `presence`, which no ACS api-version accepts (docs/presence.md).
  const apiVersion = resolved.policy.rules.some((r) => r.scopes.includes('presence'))
    ? TESSERA_API_VERSION.version
    : DEFAULT_PREVIEW_API_VERSION;
  const client =
    options.identity instanceof IdentityClient
      ? options.identity
      : typeof options.identity === 'string'
        ? new IdentityClient(options.identity, { apiVersion })
        : new IdentityClient(options.identity.endpoint, options.identity.credential, { apiVersion });
  const store =
    resolved.store.kind === 'sqlite'
      ? openTokenServiceStore(resolved.store.path)
      : await openPostgresTokenServiceStore({ connectionString: resolved.store.url, schema: resolved.store.schema });
  const broker = createIdentityBroker({
    client,
    store,
    box: resolved.encryptionKey === undefined ? undefined : createTokenBox(resolved.encryptionKey),
    clock,
  });
  const authDeps = {
    verifier:
      resolved.issuers.length === 0
        ? undefined
        : createOidcVerifier({
            issuers: resolved.issuers,
            clock,
            clockToleranceSeconds: resolved.clockToleranceSeconds,
            ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
          }),
    verify: options.verify,
    anonymous: resolved.anonymous,
    rolesClaim: resolved.policy.rolesClaim,
  };
  // On a shared store (PostgreSQL) limits and guest caps hold across every instance; alone, they live in memory.
  const buckets = (rule: RateLimit): KeyBuckets =>
    store.shared ? createStoreKeyBuckets(store, rule, clock) : createKeyBuckets(rule, clock);
  const ipBuckets = resolved.ipRateLimit && buckets(resolved.ipRateLimit);
  const userBuckets = resolved.userRateLimit && buckets(resolved.userRateLimit);
  const guestRule = { limit: resolved.anonymousPerIpPerHour, windowSeconds: 3600 };
  const guestBuckets: KeyBuckets | undefined = resolved.anonymousPerIpPerHour > 0 ? buckets(guestRule) : undefined;
  // A bucket untouched for its whole window is full again, the same as none: the sweeper drops those.
  const longestWindowMs =
    Math.max(
      guestRule.windowSeconds,
      resolved.ipRateLimit?.windowSeconds ?? 0,
      resolved.userRateLimit?.windowSeconds ?? 0,
    ) * 1000;
  const sweeperOwner = randomUUID();
  const cors = {
    origins: resolved.corsOrigins,
    anyOrigin: resolved.corsAnyOrigin,
    credentials: resolved.corsCredentials,
  };
  const facts = new WeakMap<FastifyRequest, RequestFacts>();
  const metrics = options.metrics;
  if (metrics !== undefined) instrumentFastify(app, { metrics: metrics.requests, tracing: metrics.tracing });

  let sweeping: Promise<SweepResult> | undefined;
  const sweep = (now = clock()) => {
    sweeping ??= sweepEphemeralIdentities({
      client,
      store,
      now,
      owner: sweeperOwner,
      pruneBucketsBefore: store.shared ? now - longestWindowMs : undefined,
    }).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer =
    resolved.sweepIntervalMs > 0
      ? setInterval(() => {
          sweep().then(
            (r) => {
              if (r.deleted + r.failed > 0)
                log.info({ deleted: r.deleted, failed: r.failed }, 'ephemeral identities swept');
            },
            (error: unknown) =>
              log.warn(
                { code: isTesseraError(error) || isTokenServiceError(error) ? error.code : 'ERR_INTERNAL' },
                'sweep failed',
              ),
          );
        }, resolved.sweepIntervalMs)
      : undefined;
  timer?.unref();
  options.onReady?.({ sweep, options: resolved });
  app.addHook('onClose', async () => {
    if (timer !== undefined) clearInterval(timer);
    await sweeping?.catch(() => undefined);
    await store.close();
  });

  // JSON bodies are parsed here so a bad one is our 400, not a framework message; anything else is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const text = (body as Buffer).toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new TokenServiceError('ERR_BODY_MALFORMED', 'The request body is not valid JSON.'), undefined);
    }
  });
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new TokenServiceError('ERR_UNSUPPORTED_MEDIA_TYPE', 'Send request bodies as application/json.'), undefined);
  });

  const tooMany = (code: 'ERR_RATE_LIMITED' | 'ERR_ANONYMOUS_CAP', message: string, retryAfterMs: number) =>
    new TokenServiceError(code, message, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) });

  app.addHook('onRequest', async (request, reply) => {
    facts.set(request, { startedAt: process.hrtime.bigint() });
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    applyCors(request, reply, cors);
    if (ipBuckets !== undefined && request.method !== 'OPTIONS' && !request.url.endsWith('/healthz')) {
      const taken = await ipBuckets.take(`ip:${request.ip}`);
      metrics?.rateLimit('ip', taken.allowed);
      if (!taken.allowed)
        throw tooMany('ERR_RATE_LIMITED', 'Too many requests from this IP address.', taken.retryAfterMs);
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const f = facts.get(request);
    const latencyMs =
      f === undefined ? undefined : Math.round(Number(process.hrtime.bigint() - f.startedAt) / 1e3) / 1e3;
    log.info(
      {
        op: `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
        status: reply.statusCode,
        latencyMs,
        caller: f?.caller,
        identityId: f?.identityId,
      },
      'token-service request',
    );
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    let e: unknown = error;
    if (!(error instanceof TokenServiceError) && !(error instanceof TesseraError)) {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        e = new TokenServiceError('ERR_BODY_TOO_LARGE', `The request body is larger than ${resolved.bodyLimit} bytes.`);
      } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        e = new TokenServiceError('ERR_UNSUPPORTED_MEDIA_TYPE', 'Send request bodies as application/json.');
      } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        e = new TokenServiceError('ERR_BODY_MALFORMED', 'The request is malformed.');
      }
    }
    const { status, body, retryAfterSeconds } = toErrorResponse(e);
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="tessera-token-service"');
    if (status >= 500)
      log.error({ code: body.error.code, err: error instanceof Error ? error.name : 'unknown' }, 'request failed');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toErrorResponse(
      new TokenServiceError('ERR_NOT_FOUND_ROUTE', `No route matches ${request.method} ${request.url.split('?')[0]}.`),
    );
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  const note = (request: FastifyRequest, caller: string, identityId?: string) => {
    const f = facts.get(request);
    if (f === undefined) return;
    f.caller = caller;
    if (identityId !== undefined) f.identityId = identityId;
  };

  const takeUser = async (key: string) => {
    if (userBuckets === undefined) return;
    const taken = await userBuckets.take(key);
    metrics?.rateLimit('user', taken.allowed);
    if (!taken.allowed) throw tooMany('ERR_RATE_LIMITED', 'Too many token requests for this user.', taken.retryAfterMs);
  };
  const takeGuestIdentity = async (request: FastifyRequest) => {
    if (guestBuckets === undefined) {
      throw tooMany('ERR_ANONYMOUS_CAP', 'Guest identities are capped at 0 per IP address per hour.', 3_600_000);
    }
    const taken = await guestBuckets.take(`guest:${request.ip}`);
    metrics?.rateLimit('guest', taken.allowed);
    if (!taken.allowed) {
      throw tooMany(
        'ERR_ANONYMOUS_CAP',
        `This IP address created ${resolved.anonymousPerIpPerHour} guest identities in the last hour.`,
        taken.retryAfterMs,
      );
    }
  };
  const userKey = (user: AppUser) => `user:${customIdFor(user.issuer, user.subject)}`;

  const authenticate = (request: FastifyRequest) => authenticateCaller(request, authDeps);

  /** The token for one caller; `fresh` skips the cache; `mayStart` lets it start an ephemeral session. */
  const tokenBodyCounted = (issued: IssuedToken, grant: Grant, started?: StartedSession) => {
    metrics?.tokenIssued(grant.rule.name, grant.scopes);
    return tokenBody(issued, grant, started);
  };

  const tokenFor = async (request: FastifyRequest, caller: Caller, ask: TokenRequest, fresh: boolean) => {
    if (caller.kind === 'session') {
      const session = await broker.session(caller.secret);
      note(request, 'session', session.identityId);
      await takeUser(`session:${session.id}`);
      const rule = resolved.policy.rules.find((r) => r.name === session.rule);
      if (rule === undefined) {
        throw new TokenServiceError(
          'ERR_POLICY_NO_MATCH',
          `The policy rule '${session.rule}' this session started under no longer exists.`,
        );
      }
      const grant = grantFromRule(rule, ask, session.principal === 'guest' ? 'guests' : 'this user');
      return tokenBodyCounted(await broker.issue(session.identityId, grant, { useCache: !fresh, session }), grant);
    }
    const principal = caller.kind === 'user' ? caller.user : caller.principal;
    const grant = resolveGrant(resolved.policy, principal, ask); // before anything is created
    if (caller.kind === 'user') {
      await takeUser(userKey(caller.user));
      if (grant.rule.identity === 'stable') {
        const identityId = await broker.stableIdentity(caller.user);
        note(request, 'user', identityId);
        return tokenBodyCounted(
          await broker.issue(identityId, grant, { useCache: !fresh, stableUser: caller.user }),
          grant,
        );
      }
      if (fresh) {
        throw new TokenServiceError(
          'ERR_SESSION_INVALID',
          'Ephemeral identities are refreshed with Authorization: Session <secret> (from the first token response).',
        );
      }
    } else {
      if (fresh) throw new TokenServiceError('ERR_AUTH_MISSING', 'Refreshing needs Authorization: Session <secret>.');
      await takeGuestIdentity(request);
    }
    const started = await broker.startSession(
      caller.kind === 'user' ? userKey(caller.user) : 'guest',
      grant.rule.name,
      grant.rule.sessionMaxMinutes,
    );
    metrics?.sessionStarted(caller.kind === 'user' ? 'user' : 'guest');
    const identityId = started.session.identityId ?? '';
    note(request, caller.kind, identityId);
    const issued = await broker.issue(identityId, grant, { useCache: false, session: started.session });
    return tokenBodyCounted(issued, grant, started);
  };

  const routeOptions = { bodyLimit: resolved.bodyLimit };

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.options('/*', async (_request, reply) => reply.code(204).send());

  app.get('/api/user', routeOptions, async (request) => {
    const caller = await authenticate(request);
    if (caller.kind === 'session') {
      const session = await broker.session(caller.secret);
      note(request, 'session', session.identityId);
      return identityBody(session.identityId, 'ephemeral');
    }
    if (caller.kind === 'user') {
      const identityId = await broker.knownStableIdentity(caller.user);
      note(request, 'user', identityId);
      if (identityId !== undefined) return identityBody(identityId, 'stable');
    }
    throw new TokenServiceError(
      'ERR_USER_NOT_MAPPED',
      caller.kind === 'guest'
        ? 'Guests get an identity with their first token (GET /api/token).'
        : 'No communication identity is mapped to this user yet; POST /api/user creates it.',
    );
  });

  app.post('/api/user', routeOptions, async (request, reply) => {
    const caller = await authenticate(request);
    if (caller.kind === 'session') {
      const session = await broker.session(caller.secret);
      note(request, 'session', session.identityId);
      return identityBody(session.identityId, 'ephemeral');
    }
    const principal = caller.kind === 'user' ? caller.user : caller.principal;
    const rule = matchRule(resolved.policy, principal);
    if (rule === undefined) {
      throw new TokenServiceError(
        'ERR_POLICY_NO_MATCH',
        'No policy rule matches this caller, so no identity is created.',
      );
    }
    if (caller.kind === 'user') await takeUser(userKey(caller.user));
    if (caller.kind === 'user' && rule.identity === 'stable') {
      const identityId = await broker.stableIdentity(caller.user);
      note(request, 'user', identityId);
      return identityBody(identityId, 'stable');
    }
    if (caller.kind === 'guest') await takeGuestIdentity(request);
    const started = await broker.startSession(
      caller.kind === 'user' ? userKey(caller.user) : 'guest',
      rule.name,
      rule.sessionMaxMinutes,
    );
    metrics?.sessionStarted(caller.kind === 'user' ? 'user' : 'guest');
    note(request, caller.kind, started.session.identityId);
    reply.code(201);
    return {
      ...identityBody(started.session.identityId ?? '', 'ephemeral'),
      session: { secret: started.secret, refreshUntil: new Date(started.session.maxUntil).toISOString() },
    };
  });

  app.delete('/api/user', routeOptions, async (request, reply) => {
    const caller = await authenticate(request);
    if (caller.kind === 'session') {
      const session = await broker.session(caller.secret);
      note(request, 'session', session.identityId);
      await broker.endSession(session);
      return reply.code(204).send();
    }
    if (caller.kind === 'guest') {
      throw new TokenServiceError(
        'ERR_USER_NOT_MAPPED',
        'Guests end their session with Authorization: Session <secret>.',
      );
    }
    await takeUser(userKey(caller.user));
    note(request, 'user', await broker.knownStableIdentity(caller.user));
    await broker.deleteStableIdentity(caller.user);
    return reply.code(204).send();
  });

  app.get('/api/token', routeOptions, async (request) => {
    const ask = tokenRequestFrom(request.query as Record<string, unknown>);
    return tokenFor(request, await authenticate(request), ask, false);
  });

  app.post('/api/token/refresh', routeOptions, async (request) => {
    const ask = tokenRequestFrom(bodyObject(request.body));
    return tokenFor(request, await authenticate(request), ask, true);
  });

  app.post('/api/token/exchange', routeOptions, async (request) => {
    const body = bodyObject(request.body);
    const subjectToken = body.subjectToken ?? body.subject_token;
    if (typeof subjectToken !== 'string' || subjectToken === '') {
      throw new TokenServiceError('ERR_VALIDATION', 'subject_token (the external token to exchange) is required.', {
        target: 'subject_token',
      });
    }
    const type = body.subjectTokenType ?? body.subject_token_type;
    if (type !== undefined && (typeof type !== 'string' || !TOKEN_TYPES.has(type))) {
      throw new TokenServiceError(
        'ERR_VALIDATION',
        `subject_token_type must be one of ${[...TOKEN_TYPES].join(', ')}.`,
        {
          target: 'subject_token_type',
        },
      );
    }
    const ask = tokenRequestFrom(body);
    const user = await verifyAppToken(subjectToken, request, authDeps);
    return {
      ...(await tokenFor(request, { kind: 'user', user }, ask, false)),
      issued_token_type: 'urn:tessera:params:oauth:token-type:user-access-token',
    };
  });

  if (resolved.demo !== undefined) {
    registerDemoRoutes(app, { oidc: resolved.demo.oidc, anonymous: resolved.anonymous });
  }
}
