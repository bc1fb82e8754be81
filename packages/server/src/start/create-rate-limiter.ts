import type { ResolvedServerOptions } from '../config/server-options.js';
import { createMemoryRateLimiter, type RateLimiter } from '../limits/rate-limiter.js';
import { createSharedRateLimiter } from '../limits/shared-rate-limiter.js';

/**
 * Start-up step: the rate limiter. Clustered on PostgreSQL, rate-limit counters are shared by every process; alone,
 * they live in memory.
 */
export async function createRateLimiter(
  options: ResolvedServerOptions,
  clock: () => number,
  onError: (error: unknown) => void,
): Promise<{ limiter: RateLimiter; close: () => Promise<void> }> {
  if (options.store.kind === 'postgres' && Object.keys(options.rateLimits).length > 0) {
    const { createPostgresCounterSync } = await import('../limits/postgres-rate-counters.js');
    const counters = await createPostgresCounterSync({
      connectionString: options.store.url,
      schema: options.store.schema,
      timeoutMs: options.storeTimeoutMs,
    });
    const shared = createSharedRateLimiter({ policy: options.rateLimits, clock, sync: counters.sync, onError });
    return {
      limiter: shared,
      close: async () => {
        await shared.close();
        await counters.close();
      },
    };
  }
  return { limiter: createMemoryRateLimiter(options.rateLimits, clock), close: async () => {} };
}
