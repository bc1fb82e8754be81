import { describe, expect, it } from 'vitest';
import { createIdentityCache } from '../../src/service/identity-cache.js';
import type { IdentityRecord } from '../../src/store/store.js';

const record = (id: string, epoch: number, deleted = false): IdentityRecord => ({
  id,
  customId: undefined,
  createdAt: 1,
  deletedAt: deleted ? 2 : undefined,
  epoch,
  lastTokenIssuedAt: undefined,
});

describe('identity cache (issue hot path)', () => {
  it('loads once, then answers from memory', async () => {
    const cache = createIdentityCache(10);
    let loads = 0;
    const load = async (id: string) => {
      loads++;
      return record(id, 3);
    };
    expect(await cache.get('a', load)).toEqual({ id: 'a', epoch: 3, deleted: false });
    expect(await cache.get('a', load)).toEqual({ id: 'a', epoch: 3, deleted: false });
    expect(loads).toBe(1);
  });

  it('keeps deletion and epoch exactly (epoch 0 deleted is not confused with live)', async () => {
    const cache = createIdentityCache(10);
    cache.put(record('d', 0, true));
    cache.put(record('e', 0));
    const never = async () => {
      throw new Error('should be cached');
    };
    expect(await cache.get('d', never)).toEqual({ id: 'd', epoch: 0, deleted: true });
    expect(await cache.get('e', never)).toEqual({ id: 'e', epoch: 0, deleted: false });
  });

  it('a load that raced a revoke does not cache the stale epoch (else new tokens would be born revoked)', async () => {
    const cache = createIdentityCache(10);
    let release: (r: IdentityRecord) => void = () => {};
    const slow = cache.get('x', () => new Promise<IdentityRecord>((r) => (release = r)));
    cache.put(record('x', 1)); // the revoke lands while the read is in flight
    release(record('x', 0)); // the read returns what it saw before the revoke
    await slow;
    expect(await cache.get('x', async () => record('x', 99))).toEqual({ id: 'x', epoch: 1, deleted: false });
  });

  it('evicts the least recently used beyond capacity', async () => {
    const cache = createIdentityCache(2);
    cache.put(record('a', 0));
    cache.put(record('b', 0));
    await cache.get('a', async () => undefined); // touch a
    cache.put(record('c', 0)); // evicts b
    expect(cache.size).toBe(2);
    expect(await cache.get('b', async () => undefined)).toBeUndefined();
  });
});
