export { boundedLabel, OVERFLOW_LABEL } from './bounded-label.js';
export { createMetricsRegistry, type MetricsRegistryOptions } from './create-metrics-registry.js';
export {
  CounterCell,
  counterFamily,
  type Family,
  HistogramCell,
  histogramFamily,
} from './metric-families.js';
export { type InstrumentFastifyOptions, instrumentFastify, routeOperation } from './instrument-fastify.js';
export {
  createRequestMetrics,
  LATENCY_BUCKETS,
  type RequestMetrics,
  type RequestMetricsOptions,
} from './request-metrics.js';
export {
  childSpan,
  createRequestTracing,
  outcomeOf,
  type RequestTracing,
  tracingRegistered,
} from './request-tracing.js';
export { type MetricsListener, type MetricsListenerOptions, startMetricsListener } from './start-metrics-listener.js';
export type { Registry } from 'prom-client';
