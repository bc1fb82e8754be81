import {
  counterFamily,
  createMetricsRegistry,
  createRequestMetrics,
  createRequestTracing,
  type Registry,
  type RequestMetrics,
  type RequestTracing,
} from '@tessera/metrics';

/** Which of the token service's limits decided: per client IP, per app user or session, guest identities per IP. */
export type TokenServiceLimit = 'ip' | 'user' | 'guest';

/** The token service's metrics (`tessera_token_service_*`, plus the process's `process_*` and `nodejs_*`). */
export interface TokenServiceMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  readonly tracing: RequestTracing;
  /** A token handed out under a policy rule (rule names are the operator's, a closed set). */
  tokenIssued(rule: string, scopes: readonly string[]): void;
  /** A session started: an ephemeral identity was (or will be) created for a user or guest. */
  sessionStarted(kind: 'user' | 'guest'): void;
  rateLimit(limit: TokenServiceLimit, allowed: boolean): void;
}

/**
 * Creates the token service's metrics in `registry` (a fresh one by default). No label carries a client IP, an app
 * user or an identity id: rate-limit decisions are counted per limit, not per caller (those are unbounded sets).
 */
export function createTokenServiceMetrics(registry: Registry = createMetricsRegistry()): TokenServiceMetrics {
  const tokens = counterFamily(registry, {
    name: 'tessera_token_service_tokens_issued_total',
    help: 'User access tokens handed out, by policy rule and scope set (sorted, comma-separated).',
    labelNames: ['rule', 'scopes'],
  });
  const sessions = counterFamily(registry, {
    name: 'tessera_token_service_sessions_started_total',
    help: 'Ephemeral sessions started (each maps to a new identity), by caller kind.',
    labelNames: ['kind'],
  });
  const decisions = counterFamily(registry, {
    name: 'tessera_token_service_rate_limit_decisions_total',
    help: 'Rate-limit decisions of the token service, by limit (ip, user, guest) and decision.',
    labelNames: ['limit', 'decision'],
  });
  return {
    registry,
    requests: createRequestMetrics(registry, { prefix: 'tessera_token_service_' }),
    tracing: createRequestTracing({ name: '@tessera/token-service' }),
    tokenIssued: (rule, scopes) => tokens.cell(rule, [...new Set(scopes)].sort().join(',') || 'none').inc(),
    sessionStarted: (kind) => sessions.cell(kind).inc(),
    rateLimit: (limit, allowed) => decisions.cell(limit, allowed ? 'allowed' : 'limited').inc(),
  };
}
