import { startMetricsListener, tracingRegistered } from '@tessera/metrics';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { TokenServiceOptions } from './config/token-service-options.js';
import { createTokenServiceMetrics } from './metrics/token-service-metrics.js';
import { type TokenServiceHandle, tokenServicePlugin } from './token-service-plugin.js';
import { TOKEN_SERVICE_DEFAULTS } from './config/token-service-defaults.js';

/** Options of {@link startTokenService}: the plugin's plus where to listen. */
export interface StartTokenServiceOptions extends TokenServiceOptions {
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 picks a free one. Default 8090. */
  readonly port?: number;
  /** Trust `X-Forwarded-For` from a proxy in front (client IPs for rate limits). Default false. */
  readonly trustProxy?: boolean | string;
  /** pino level when no `logger` is given. Default info. */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where log lines go when no `logger` is given. Default stdout. */
  readonly logDestination?: NodeJS.WritableStream;
  /** Serve `GET /metrics` unauthenticated on a separate listener at this port (0 = a free one). Default: off. */
  readonly metricsPort?: number;
  /** Interface of the metrics listener. Default 127.0.0.1. */
  readonly metricsHost?: string;
}

/** A running token service. */
export interface RunningTokenService {
  /** `http://host:port/` */
  readonly url: string;
  /** With `metricsPort`: `http://host:port/metrics`. */
  readonly metricsUrl: string | undefined;
  /** Runs the ephemeral-identity sweeper now. */
  sweep: TokenServiceHandle['sweep'];
  /** Stops accepting requests, drains in-flight ones, stops the sweeper and closes the database. */
  close(): Promise<void>;
}

/** Starts the token service as its own process (what `tessera token-service` runs). */
export async function startTokenService(options: StartTokenServiceOptions): Promise<RunningTokenService> {
  const logger: FastifyBaseLogger =
    options.logger ??
    pino(
      {
        level: options.logLevel ?? TOKEN_SERVICE_DEFAULTS.logLevel,
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      options.logDestination ?? process.stdout,
    );
  const app = Fastify({
    logger: false,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: options.bodyLimit ?? TOKEN_SERVICE_DEFAULTS.bodyLimit,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 256 },
  });
  let handle: TokenServiceHandle | undefined;
  const host = options.host ?? TOKEN_SERVICE_DEFAULTS.host;
  // Metrics are collected only when served (on their own listener; the token service has no verifier key), or when an
  // OpenTelemetry SDK is registered (the spans ride on the same hook).
  const metrics =
    options.metrics ??
    (options.metricsPort === undefined && !tracingRegistered() ? undefined : createTokenServiceMetrics());
  let metricsUrl: string | undefined;
  let closeMetrics = async () => {};
  try {
    await app.register(tokenServicePlugin, {
      ...options,
      ...(metrics === undefined ? {} : { metrics }),
      logger,
      onReady: (h) => {
        handle = h;
      },
    });
    await app.listen({ host, port: options.port ?? TOKEN_SERVICE_DEFAULTS.port });
    if (metrics !== undefined && options.metricsPort !== undefined) {
      const listener = await startMetricsListener({
        registry: metrics.registry,
        host: options.metricsHost ?? TOKEN_SERVICE_DEFAULTS.metricsHost,
        port: options.metricsPort,
      });
      metricsUrl = listener.url;
      closeMetrics = listener.close;
    }
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`,
    metricsUrl,
    sweep: (now) => {
      if (handle === undefined) return Promise.resolve({ deleted: 0, failed: 0, expiredCacheRows: 0, skipped: true });
      return handle.sweep(now);
    },
    close() {
      closing ??= closeMetrics().then(() => app.close());
      return closing;
    },
  };
}
