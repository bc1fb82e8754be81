import type { FastifyInstance } from 'fastify';
import { TesseraError } from '@tessera/core';
import { type MetricsListener, startMetricsListener } from '@tessera/metrics';
import type { ResolvedServerOptions } from '../config/server-options.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';

/**
 * Start-up step: listens on `--host`/`--port` and returns the endpoint reached there (`http(s)://host:port/`, a
 * wildcard host named as 127.0.0.1). A port in use or a host that cannot be bound is a setting-named error.
 */
export async function listen(app: FastifyInstance, options: ResolvedServerOptions, tls: boolean): Promise<string> {
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      code === 'EADDRINUSE'
        ? `Invalid --port: ${options.host}:${options.port} is already in use.`
        : `Invalid --host/--port: cannot listen on ${options.host}:${options.port} (${code ?? 'error'}).`,
      { target: code === 'EADDRINUSE' ? 'port' : 'host', cause },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const hostForUrl = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const scheme = tls ? 'https' : 'http';
  return `${scheme}://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}/`;
}

/**
 * Start-up step: the separate metrics listener (`--metrics-port`), when metrics are on and it is configured. On
 * failure the app is closed and the error names `--metrics-port`.
 */
export async function listenForMetrics(
  app: FastifyInstance,
  options: ResolvedServerOptions,
  metrics: ServerMetrics | undefined,
): Promise<MetricsListener | undefined> {
  if (metrics === undefined || options.metricsListener === undefined) return undefined;
  const { host, port: metricsPort } = options.metricsListener;
  try {
    return await startMetricsListener({ registry: metrics.registry, host, port: metricsPort });
  } catch (cause) {
    await app.close();
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      `Invalid --metrics-host/--metrics-port: cannot listen on ${host}:${metricsPort} (${(cause as { code?: string }).code ?? 'error'}).`,
      { target: 'metrics-port', cause },
    );
  }
}
