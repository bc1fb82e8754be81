import { isTesseraError, TesseraError } from '@tessera/core';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { resolveServerOptions } from '../../src/config/server-options.js';
import type { Store } from '../../src/store/store.js';
import {
  createStoreAvailability,
  type StoreAvailabilityChange,
  withCallTimeout,
} from '../../src/store/with-call-timeout.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A store whose calls answer only when the test says so. */
function controlledStore() {
  const pending: Array<{ resolve(v: unknown): void; reject(e: unknown): void }> = [];
  const call = () => new Promise((resolve, reject) => pending.push({ resolve, reject }));
  const store = { getIdentity: call, ping: call, migrate: call, close: call } as unknown as Store;
  return { store, pending };
}

const unavailable = () => new TesseraError('ERR_STORE_UNAVAILABLE', 'down', { details: { reason: 'ECONNREFUSED' } });

it('a call with no answer rejects ERR_STORE_UNAVAILABLE (reason timeout, Retry-After) at the bound, not before', async () => {
  const { store } = controlledStore();
  const guarded = withCallTimeout(store, { timeoutMs: 1000 });
  let settled: unknown;
  guarded.getIdentity('x').catch((e: unknown) => {
    settled = e;
  });
  await vi.advanceTimersByTimeAsync(999);
  expect(settled).toBeUndefined();
  await vi.advanceTimersByTimeAsync(1);
  expect(isTesseraError(settled, 'ERR_STORE_UNAVAILABLE')).toBe(true);
  expect((settled as TesseraError).details).toMatchObject({ reason: 'timeout', retryAfterSeconds: 2 });
});

it('start-up and shutdown (migrate, close) are not bounded', async () => {
  const { store, pending } = controlledStore();
  const guarded = withCallTimeout(store, { timeoutMs: 1000 });
  let settled = false;
  void guarded.migrate().then(() => {
    settled = true;
  });
  await vi.advanceTimersByTimeAsync(60_000);
  expect(settled).toBe(false);
  pending[0]?.resolve(undefined);
  await vi.advanceTimersByTimeAsync(0);
  expect(settled).toBe(true);
});

it('an outage is reported once however many calls fail, its end once, and a late answer to an older call does not end it', async () => {
  const changes: StoreAvailabilityChange[] = [];
  let now = 0;
  const availability = createStoreAvailability({ onChange: (c) => changes.push(c), clock: () => now });
  const { store, pending } = controlledStore();
  const guarded = withCallTimeout(store, { timeoutMs: 1000, availability });
  const early = guarded.ping(); // under way before the outage
  const failing = [guarded.getIdentity('a'), guarded.getIdentity('b'), guarded.getIdentity('c')];
  for (const p of pending.slice(1)) p.reject(unavailable());
  const errors = await Promise.all(failing.map((p) => p.catch((e: unknown) => e)));
  for (const e of errors) expect((e as TesseraError).details?.retryAfterSeconds).toBe(2);
  expect(changes).toStrictEqual([{ available: false, reason: 'ECONNREFUSED' }]);
  pending[0]?.resolve(undefined);
  await early;
  expect(availability.available).toBe(false);
  now = 5000;
  const later = guarded.ping();
  pending.at(-1)?.resolve(undefined);
  await later;
  expect(changes).toStrictEqual([
    { available: false, reason: 'ECONNREFUSED' },
    { available: true, downMs: 5000, failedCalls: 3 },
  ]);
});

it('an error from a database that answered (not unavailable) passes through and counts as reachable', async () => {
  const { store, pending } = controlledStore();
  const guarded = withCallTimeout(store, { timeoutMs: 1000 });
  const call = guarded.getIdentity('x');
  pending[0]?.reject(new TesseraError('ERR_INTERNAL', 'constraint'));
  await expect(call).rejects.toSatisfy((e: unknown) => isTesseraError(e, 'ERR_INTERNAL'));
});

it('--store-timeout defaults to 5000 ms and refuses values outside 100..600000, naming the setting', () => {
  expect(resolveServerOptions({}).storeTimeoutMs).toBe(5000);
  expect(resolveServerOptions({ storeTimeoutMs: 250 }).storeTimeoutMs).toBe(250);
  for (const bad of [0, 99, 600_001, 1.5]) {
    expect(() => resolveServerOptions({ storeTimeoutMs: bad })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', target: 'store-timeout' }),
    );
  }
});
