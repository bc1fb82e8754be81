import { childSpan, counterFamily, histogramFamily, LATENCY_BUCKETS, type RequestTracing } from '@tessera/metrics';
import { Gauge, type Registry } from 'prom-client';
import type { Store } from '../store/store.js';

/** How long the scrape-time `ping` may take before the store counts as unreachable. */
const PING_TIMEOUT_MS = 2000;

/**
 * Wraps every store method to time it (`tessera_store_query_duration_seconds{query}`) and count its failures
 * (`tessera_store_errors_total{query}`), with a child span per query under the request's span when tracing is on;
 * `tessera_store_up` pings the store at each scrape. The `query` label is the method name (a closed set).
 */
export function instrumentStore(
  store: Store,
  options: { readonly registry: Registry; readonly tracing?: RequestTracing | undefined },
): Store {
  const duration = histogramFamily(options.registry, {
    name: 'tessera_store_query_duration_seconds',
    help: 'Store call latency, by store method.',
    labelNames: ['query'],
    buckets: LATENCY_BUCKETS,
  });
  const errors = counterFamily(options.registry, {
    name: 'tessera_store_errors_total',
    help: 'Store calls that failed, by store method.',
    labelNames: ['query'],
  });
  new Gauge({
    name: 'tessera_store_up',
    help: 'Whether the store answered a ping at this scrape (1) or not within 2 s (0).',
    registers: [options.registry],
    async collect() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([store.ping(), timeout]);
        this.set(1);
      } catch {
        this.set(0);
      } finally {
        clearTimeout(timer);
      }
    },
  });
  const tracer = options.tracing?.enabled === true ? options.tracing.tracer : undefined;
  const wrapped: Record<string, unknown> = {};
  const methods = store as unknown as Record<string, unknown>;
  for (const name of Object.keys(methods)) {
    const method = methods[name];
    if (typeof method !== 'function') {
      wrapped[name] = method;
      continue;
    }
    const timed = duration.cell(name);
    const failed = errors.cell(name); // present from the start at 0, so rate() has a zero to begin with
    const call = (args: unknown[]): Promise<unknown> => {
      const started = performance.now();
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(method.apply(store, args));
      } catch (error) {
        failed.inc();
        return Promise.reject(error);
      }
      return result.then(
        (value) => {
          timed.observe((performance.now() - started) / 1000);
          return value;
        },
        (error: unknown) => {
          timed.observe((performance.now() - started) / 1000);
          failed.inc();
          throw error;
        },
      );
    };
    // Methods are passed around unbound (the identity cache takes `store.getIdentity`), so each is a closure.
    wrapped[name] =
      tracer === undefined
        ? (...args: unknown[]) => call(args)
        : (...args: unknown[]) => childSpan(tracer, `store.${name}`, () => call(args));
  }
  return wrapped as unknown as Store;
}
