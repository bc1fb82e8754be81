/**
 * The defaults of {@link ServerOptions} that have a value, written once: `resolveServerOptions` applies them and the
 * `tessera serve` settings table (packages/cli) shows them in `--help` and docs/configuration.md.
 */
export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: '.tessera',
  storeTimeoutMs: 5000,
  location: 'unitedstates',
  audience: 'urn:tessera:user-access',
  auditRetentionDays: 90,
  pruneIntervalMs: 60_000,
  maxClockSkewSeconds: 900,
  bodyLimit: 65_536,
  heartbeatMs: 5000,
  rateLimit: 'acs',
  pollMs: 1000,
  signing: 'worker',
  signingThreads: 1,
  metricsHost: '127.0.0.1',
  logLevel: 'info',
} as const;

/** Inclusive `[min, max]` of the integer {@link ServerOptions}; out of range is `ERR_CONFIG_INVALID`. */
export const SERVER_LIMITS = {
  port: [0, 65535],
  storeTimeoutMs: [100, 600_000],
  auditRetentionDays: [0, 36_500],
  pruneIntervalMs: [0, 86_400_000],
  maxClockSkewSeconds: [1, 86_400],
  bodyLimit: [1024, 16 * 1024 * 1024],
  heartbeatMs: [10, 600_000],
  pollMs: [50, 600_000],
  signingThreads: [1, 16],
  metricsPort: [0, 65535],
} as const satisfies Record<string, readonly [number, number]>;
