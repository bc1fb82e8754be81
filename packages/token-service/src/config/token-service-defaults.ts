/**
 * The defaults of the token service's options, written once: option resolution and `startTokenService` apply them,
 * and the `tessera token-service` settings table (packages/cli) shows them in `--help` and docs/token-service.md.
 */
export const TOKEN_SERVICE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8090,
  dataDir: './.tessera/token-service',
  ipRateLimit: '120/60',
  userRateLimit: '30/60',
  anonymousPerIpPerHour: 20,
  bodyLimit: 16_384,
  logLevel: 'info',
  metricsHost: '127.0.0.1',
} as const;

/** Inclusive `[min, max]` of the token service's integer options; out of range is `ERR_CONFIG_INVALID`. */
export const TOKEN_SERVICE_LIMITS = {
  port: [0, 65535],
  anonymousPerIpPerHour: [0, 1_000_000],
  bodyLimit: [256, 1_048_576],
} as const satisfies Record<string, readonly [number, number]>;
