import type { Registry } from 'prom-client';
import { type CounterCell, counterFamily, type HistogramCell, histogramFamily } from './metric-families.js';

/** Default latency buckets, seconds: 0.5 ms to 10 s (the issue path answers in about 1 ms, PostgreSQL in tens). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Options of {@link createRequestMetrics}. */
export interface RequestMetricsOptions {
  /** Metric name prefix, e.g. `tessera_` or `tessera_token_service_`. */
  readonly prefix: string;
  readonly buckets?: readonly number[];
}

/** Per-operation request counts and latencies. */
export interface RequestMetrics {
  /** One request answered: operation (a route name, never a URL), HTTP status, seconds. */
  observe(operation: string, status: number, seconds: number): void;
}

interface Cells {
  readonly duration: HistogramCell;
  readonly byStatus: Map<number, CounterCell>;
}

/**
 * `<prefix>requests_total{operation,status}` and `<prefix>request_duration_seconds{operation}`. Series are kept per
 * operation and status, so a request costs two map reads, one addition and one bucket scan.
 */
export function createRequestMetrics(registry: Registry, options: RequestMetricsOptions): RequestMetrics {
  const requests = counterFamily(registry, {
    name: `${options.prefix}requests_total`,
    help: 'Requests answered, by operation (route name) and HTTP status.',
    labelNames: ['operation', 'status'],
  });
  const duration = histogramFamily(registry, {
    name: `${options.prefix}request_duration_seconds`,
    help: 'Time from request to response, by operation (route name).',
    labelNames: ['operation'],
    buckets: options.buckets ?? LATENCY_BUCKETS,
  });
  const byOperation = new Map<string, Cells>();
  return {
    observe(operation, status, seconds) {
      let cells = byOperation.get(operation);
      if (cells === undefined) {
        cells = { duration: duration.cell(operation), byStatus: new Map() };
        byOperation.set(operation, cells);
      }
      let counter = cells.byStatus.get(status);
      if (counter === undefined) {
        counter = requests.cell(operation, String(status));
        cells.byStatus.set(status, counter);
      }
      counter.inc();
      cells.duration.observe(seconds);
    },
  };
}
