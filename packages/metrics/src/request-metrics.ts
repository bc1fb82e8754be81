import { Counter, Histogram, type Registry } from 'prom-client';

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

interface Children {
  readonly duration: { observe(value: number): void };
  readonly byStatus: Map<number, { inc(): void }>;
}

/**
 * `<prefix>requests_total{operation,status}` and `<prefix>request_duration_seconds{operation}`. Label children are
 * kept per operation and status, so a request costs two map reads, one increment and one observe (no label
 * string is joined on the request path).
 */
export function createRequestMetrics(registry: Registry, options: RequestMetricsOptions): RequestMetrics {
  const requests = new Counter({
    name: `${options.prefix}requests_total`,
    help: 'Requests answered, by operation (route name) and HTTP status.',
    labelNames: ['operation', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${options.prefix}request_duration_seconds`,
    help: 'Time from request to response, by operation (route name).',
    labelNames: ['operation'],
    buckets: [...(options.buckets ?? LATENCY_BUCKETS)],
    registers: [registry],
  });
  const byOperation = new Map<string, Children>();
  return {
    observe(operation, status, seconds) {
      let children = byOperation.get(operation);
      if (children === undefined) {
        children = { duration: duration.labels(operation), byStatus: new Map() };
        byOperation.set(operation, children);
      }
      let counter = children.byStatus.get(status);
      if (counter === undefined) {
        counter = requests.labels(operation, String(status));
        children.byStatus.set(status, counter);
      }
      counter.inc();
      children.duration.observe(seconds);
    },
  };
}
