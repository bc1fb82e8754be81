import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createIdentityCache, identityCacheKey } from '../../src/service/identity-cache.js';
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

describe('identityCacheKey (compact keys: 16 characters per identity instead of 79)', () => {
  const resource = '5b1f6f0e-8b7e-4a8e-9d3c-1b2a3c4d5e6f';
  it('is the user id as 16 bytes, one per character, case-insensitive', () => {
    const key = identityCacheKey(`8:acs:${resource}_00112233-4455-6677-8899-aabbccddeeff`);
    expect([...key].map((c) => c.charCodeAt(0))).toEqual([
      0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    ]);
    expect(identityCacheKey(`8:acs:${resource}_00112233-4455-6677-8899-AABBCCDDEEFF`)).toBe(key);
  });

  it('tells 1000 random identities apart and keeps anything that is not a raw id as is', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1000; i++) keys.add(identityCacheKey(`8:acs:${resource}_${randomUUID()}`));
    expect(keys.size).toBe(1000);
    expect(identityCacheKey('a')).toBe('a');
    expect(identityCacheKey('8:acs:not-a-raw-id')).toBe('8:acs:not-a-raw-id');
  });

  it('serves the cache: put under one case, get and invalidate under the other', async () => {
    const cache = createIdentityCache(10);
    const id = `8:acs:${resource}_00112233-4455-6677-8899-aabbccddeeff`;
    cache.put(record(id, 4));
    const upper = id.toUpperCase().replace('8:ACS:', '8:acs:');
    expect(await cache.get(upper, async () => undefined)).toEqual({ id: upper, epoch: 4, deleted: false });
    cache.invalidate(upper);
    expect(cache.size).toBe(0);
  });
});
