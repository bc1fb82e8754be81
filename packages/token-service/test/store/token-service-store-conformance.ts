// One conformance suite every token-service store passes (SQLite and PostgreSQL), as the identity server's stores do.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenServiceStore } from '../../src/store/token-service-store.js';

/** What a suite run needs: a fresh empty store, and how to dispose of it. */
export interface StoreUnderTest {
  readonly store: TokenServiceStore;
  /** A second handle on the same data (another instance's view). */
  readonly other: () => Promise<TokenServiceStore>;
  readonly cleanup: () => Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);

function session(id: string, overrides: Partial<{ tokensExpireAt: number; maxUntil: number }> = {}) {
  return {
    id,
    secretHash: `hash-${id}`,
    rule: 'guest',
    principal: 'guest',
    createdAt: T0,
    maxUntil: overrides.maxUntil ?? T0 + 3_600_000,
    tokensExpireAt: overrides.tokensExpireAt ?? T0 + 600_000,
  };
}

/** Runs the suite against stores made by `open`. */
export function describeTokenServiceStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`token-service store conformance: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: TokenServiceStore;
    const extra: TokenServiceStore[] = [];
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await store.close();
      await subject.cleanup();
    });
    const another = async () => {
      const s = await subject.other();
      extra.push(s);
      return s;
    };

    it('keeps stable-identity mappings: put, overwrite, get, delete', async () => {
      expect(await store.getMapping('c1')).toBeUndefined();
      await store.putMapping('c1', 'id-1', T0);
      await store.putMapping('c1', 'id-2', T0 + 1);
      expect(await store.getMapping('c1')).toBe('id-2');
      expect(await (await another()).getMapping('c1')).toBe('id-2');
      await store.deleteMapping('c1');
      expect(await store.getMapping('c1')).toBeUndefined();
    });

    it('finds a session by its secret hash on any handle, with its identity once set', async () => {
      await store.insertSession(session('s1'));
      expect((await store.sessionBySecretHash('hash-s1'))?.identityId).toBeUndefined();
      await store.setSessionIdentity('s1', 'id-1');
      const seen = await (await another()).sessionBySecretHash('hash-s1');
      expect(seen).toStrictEqual({
        id: 's1',
        identityId: 'id-1',
        rule: 'guest',
        principal: 'guest',
        createdAt: T0,
        maxUntil: T0 + 3_600_000,
        tokensExpireAt: T0 + 600_000,
        endedAt: undefined,
        sweptAt: undefined,
      });
      expect(await store.sessionBySecretHash('hash-unknown')).toBeUndefined();
    });

    it('extends a session forward only; ending one pulls its expiry back to the end', async () => {
      await store.insertSession(session('s1'));
      await store.extendSession('s1', T0 + 900_000);
      await store.extendSession('s1', T0 + 700_000);
      expect((await store.sessionBySecretHash('hash-s1'))?.tokensExpireAt).toBe(T0 + 900_000);
      await store.endSession('s1', T0 + 5000);
      const ended = await store.sessionBySecretHash('hash-s1');
      expect(ended?.endedAt).toBe(T0 + 5000);
      expect(ended?.tokensExpireAt).toBe(T0 + 5000);
    });

    it('lists due sessions oldest expiry first, up to the limit, until swept', async () => {
      await store.insertSession(session('late', { tokensExpireAt: T0 + 3000 }));
      await store.insertSession(session('early', { tokensExpireAt: T0 + 1000 }));
      await store.insertSession(session('future', { tokensExpireAt: T0 + 99_000 }));
      expect((await store.dueSessions(T0 + 5000, 10)).map((s) => s.id)).toStrictEqual(['early', 'late']);
      expect((await store.dueSessions(T0 + 5000, 1)).map((s) => s.id)).toStrictEqual(['early']);
      await store.markSwept('early', T0 + 5000);
      expect((await store.dueSessions(T0 + 5000, 10)).map((s) => s.id)).toStrictEqual(['late']);
      expect((await store.sessionBySecretHash('hash-early'))?.sweptAt).toBe(T0 + 5000);
    });

    it('caches sealed tokens by key, drops them by identity and when expired', async () => {
      await store.putCachedToken('k1', 'id-1', 'sealed-1', T0 + 1000);
      await store.putCachedToken('k1', 'id-1', 'sealed-2', T0 + 2000);
      await store.putCachedToken('k2', 'id-1', 'sealed-3', T0 + 2000);
      await store.putCachedToken('k3', 'id-2', 'sealed-4', T0 + 500);
      expect(await store.getCachedToken('k1')).toStrictEqual({ sealed: 'sealed-2', expiresAt: T0 + 2000 });
      await store.deleteCachedTokens('id-1');
      expect(await store.getCachedToken('k1')).toBeUndefined();
      expect(await store.getCachedToken('k2')).toBeUndefined();
      expect(await store.deleteExpiredTokens(T0 + 500)).toBe(1);
      expect(await store.getCachedToken('k3')).toBeUndefined();
    });

    it('takes from a token bucket as core does: a burst up to the limit, then the wait for one token', async () => {
      const rule = { limit: 3, windowSeconds: 60 };
      for (let i = 0; i < 3; i++) expect(await store.takeFromBucket('ip:a', rule, T0)).toStrictEqual(allowed);
      // 3 per 60 s: one token every 20 s.
      expect(await store.takeFromBucket('ip:a', rule, T0)).toStrictEqual({ allowed: false, retryAfterMs: 20_000 });
      expect(await store.takeFromBucket('ip:a', rule, T0 + 10_000)).toStrictEqual({
        allowed: false,
        retryAfterMs: 10_000,
      });
      expect(await (await another()).takeFromBucket('ip:a', rule, T0 + 20_000)).toStrictEqual(allowed);
      expect((await store.takeFromBucket('ip:a', rule, T0 + 20_000)).allowed).toBe(false);
      expect(await store.takeFromBucket('ip:b', rule, T0)).toStrictEqual(allowed);
    });

    it('grants exactly the limit to many concurrent takers across handles', async () => {
      const rule = { limit: 5, windowSeconds: 3600 };
      const handles = [store, await another(), await another()];
      const takes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (handles[i % 3] ?? store).takeFromBucket('guest:x', rule, T0)),
      );
      expect(takes.filter((t) => t.allowed)).toHaveLength(5);
    });

    it('prunes buckets untouched since a time (a pruned bucket is full again)', async () => {
      const rule = { limit: 1, windowSeconds: 60 };
      await store.takeFromBucket('old', rule, T0);
      await store.takeFromBucket('new', rule, T0 + 50_000);
      expect(await store.pruneBuckets(T0 + 1)).toBe(1);
      expect((await store.takeFromBucket('old', rule, T0 + 50_000)).allowed).toBe(true);
      expect((await store.takeFromBucket('new', rule, T0 + 50_000)).allowed).toBe(false);
    });

    it('lets one owner at a time hold the sweeper lease, until it expires or is released', async () => {
      const b = await another();
      expect(await store.claimSweep('a', T0, 60_000)).toBe(true);
      expect(await b.claimSweep('b', T0 + 1000, 60_000)).toBe(false);
      expect(await store.claimSweep('a', T0 + 2000, 60_000)).toBe(true);
      expect(await b.claimSweep('b', T0 + 61_000, 60_000)).toBe(false);
      expect(await b.claimSweep('b', T0 + 62_000, 60_000)).toBe(true);
      await b.releaseSweep('b');
      expect(await store.claimSweep('a', T0 + 63_000, 60_000)).toBe(true);
      // Releasing someone else's lease does nothing.
      await b.releaseSweep('b');
      expect(await b.claimSweep('b', T0 + 64_000, 60_000)).toBe(false);
    });
  });
}

const allowed = { allowed: true, retryAfterMs: 0 };
