import { collectDefaultMetrics, Registry } from 'prom-client';

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Collect the process metrics (event-loop lag, heap, RSS, GC, handles; prom-client's defaults). Default true. */
  readonly processMetrics?: boolean;
  /** Event-loop delay histogram resolution, ms (default 10: one timer per 10 ms, negligible cost). */
  readonly eventLoopResolutionMs?: number;
}

/**
 * A fresh Prometheus registry (never prom-client's global one, so two services in one process, or one per test,
 * do not collide) holding the process metrics under their usual names: `process_resident_memory_bytes`,
 * `nodejs_heap_size_used_bytes`, `nodejs_eventloop_lag_p99_seconds`, ….
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: options.eventLoopResolutionMs ?? 10 });
  }
  return registry;
}
