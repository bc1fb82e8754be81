import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry, RequestMetrics, RequestTracing } from '@tessera/metrics';
import type { AuditLog } from './audit/audit-log.js';
import type { Authenticator } from './auth/authenticate.js';
import type { KeyRing } from './auth/key-ring.js';
import type { RolesAdmin } from './auth/roles-admin.js';
import type { TokenExchange } from './auth/token-exchange.js';
import type { PublicJwk } from './crypto/signing-key.js';
import type { SigningKeyRing } from './crypto/signing-key-ring.js';
import { installErrorHandling } from './http/error-handler.js';
import { declareRequestFields } from './http/request-fields.js';
import { installRequestHooks } from './http/request-hooks.js';
import type { RevocationFeed } from './http/revocation-feed.js';
import { createAcsRoute } from './http/route.js';
import type { RateLimiter } from './limits/rate-limiter.js';
import { registerAccessKeyRoutes } from './routes/access-key-routes.js';
import { registerAdminIdentityRoutes } from './routes/admin-identity-routes.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerDiscoveryRoutes } from './routes/discovery-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerIdentityRoutes } from './routes/identity-routes.js';
import { registerIntrospectionRoutes } from './routes/introspection-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { registerRevocationRoutes } from './routes/revocation-routes.js';
import { registerRoleRoutes } from './routes/role-routes.js';
import { registerSigningKeyRoutes } from './routes/signing-key-routes.js';
import { registerTokenExchangeRoutes } from './routes/token-exchange-routes.js';
import type { IdentityService } from './service/identity-service.js';
import type { ResourceContext } from './service/resource-context.js';
import type { Store } from './store/store.js';

/** What the Entra ID / OIDC routes need: role management, the audit log and the token exchange. */
export interface AccessRouteDeps {
  readonly roles: RolesAdmin;
  readonly audit: AuditLog;
  readonly exchange: TokenExchange;
}

/** Everything {@link buildApp} needs; built by `startServer`, or by tests. */
export interface AppDeps {
  readonly service: IdentityService;
  readonly feed: RevocationFeed;
  readonly keys: KeyRing;
  /** The store behind `service`; routes never read it directly (route → auth → service → store). */
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
  /** Replaces one access key (service/access-key-service.ts). */
  readonly regenerateKey: (name: 'primary' | 'secondary' | 'verifier') => Promise<void>;
  readonly rateLimiter: RateLimiter;
  /** Serve HTTPS with this certificate chain and key (PEM). */
  readonly https?: { readonly cert: string; readonly key: string } | undefined;
  /** Roles, audit log and token exchange (routes/role-routes.ts, audit-routes.ts, token-exchange-routes.ts). */
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

/**
 * Builds the Fastify app without listening — `app.inject()` works on it. It only assembles: request fields, hooks and
 * error handling from http/, the `acs()` route wrapper (http/route.ts), and one module per route group from routes/.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit,
    return503OnClosing: true,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    ...(deps.https === undefined ? {} : { https: { cert: deps.https.cert, key: deps.https.key } }),
  }) as unknown as FastifyInstance;

  declareRequestFields(app);
  const metrics = deps.metrics;
  const tracing = metrics?.tracing.enabled === true ? metrics.tracing : undefined;
  installRequestHooks(app, {
    logger: deps.logger,
    clock: deps.clock,
    audit: deps.access?.audit,
    metrics: metrics?.requests,
    tracing,
  });
  installErrorHandling(app, { logger: deps.logger, bodyLimit: deps.bodyLimit });
  const acs = createAcsRoute({
    authenticate: deps.authenticate,
    rateLimiter: deps.rateLimiter,
    logger: deps.logger,
    tracing,
  });

  registerIdentityRoutes(app, acs, deps.service);
  registerIntrospectionRoutes(app, acs, deps.service);
  registerRevocationRoutes(app, acs, { feed: deps.feed, service: deps.service });
  registerAdminIdentityRoutes(app, acs, deps.service);
  registerAccessKeyRoutes(app, acs, { keys: deps.keys, endpoint: deps.endpoint, regenerateKey: deps.regenerateKey });
  registerDiscoveryRoutes(app, { resource: deps.resource, jwks: deps.jwks, endpoint: deps.endpoint });
  if (deps.access !== undefined) {
    registerTokenExchangeRoutes(app, acs, deps.access.exchange);
    registerRoleRoutes(app, acs, deps.access.roles);
    registerAuditRoutes(app, acs, deps.access.audit);
  }
  if (deps.signingKeys !== undefined) registerSigningKeyRoutes(app, acs, deps.signingKeys);
  if (metrics?.onApiPort === true) registerMetricsRoutes(app, acs, metrics.registry);
  registerHealthRoutes(app, deps.service);
  return app;
}
