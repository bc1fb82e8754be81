// One suite every PresenceStore must pass (SQLite and PostgreSQL run it).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PresenceRecord, PresenceStore } from '../../src/presence/presence-store.js';

/** A fresh, empty store for one test; `open` opens a second handle on the same data (another process). */
export interface PresenceStoreFixture {
  readonly store: PresenceStore;
  readonly open: () => Promise<PresenceStore>;
  readonly cleanup: () => Promise<void>;
}

const ALICE = '8:acs:1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b_00000000-0000-0000-0000-00000000000a';
const BOB = '8:acs:1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b_00000000-0000-0000-0000-00000000000b';
const CAROL = '8:acs:1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b_00000000-0000-0000-0000-00000000000c';

/** Runs the presence store conformance suite against `make`. */
export function describePresenceStoreConformance(name: string, make: () => Promise<PresenceStoreFixture>): void {
  describe(`PresenceStore conformance: ${name}`, () => {
    let fixture: PresenceStoreFixture;
    let store: PresenceStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    it('migrate is idempotent', async () => {
      await store.migrate();
      expect(await store.getMany([ALICE])).toEqual([]);
    });

    it('put then getMany returns the record exactly; absent users are left out', async () => {
      const record: PresenceRecord = {
        rawId: ALICE,
        state: 'busy',
        note: 'in a meeting ✓',
        expiresOn: 2_000,
        updatedOn: 1_000,
      };
      await store.put(record);
      await store.put({ rawId: BOB, state: 'available', updatedOn: 1_500 });
      expect(await store.getMany([ALICE])).toEqual([record]);
      const both = await store.getMany([BOB, ALICE, CAROL, ALICE]);
      expect(both.sort((a, b) => a.rawId.localeCompare(b.rawId))).toEqual([
        record,
        { rawId: BOB, state: 'available', updatedOn: 1_500 },
      ]);
      expect(await store.getMany([])).toEqual([]);
    });

    it('put replaces every field (a note and expiry not given again are gone)', async () => {
      await store.put({ rawId: ALICE, state: 'busy', note: 'x', expiresOn: 9_000, updatedOn: 1 });
      await store.put({ rawId: ALICE, state: 'away', updatedOn: 2 });
      expect(await store.getMany([ALICE])).toEqual([{ rawId: ALICE, state: 'away', updatedOn: 2 }]);
    });

    it('claimExpired takes each expired record once, oldest expiry first, up to the limit', async () => {
      await store.put({ rawId: ALICE, state: 'busy', expiresOn: 300, updatedOn: 1 });
      await store.put({ rawId: BOB, state: 'away', expiresOn: 100, updatedOn: 1 });
      await store.put({ rawId: CAROL, state: 'doNotDisturb', expiresOn: 5_000, updatedOn: 1 });
      expect(await store.claimExpired(50, 10)).toEqual([]);
      expect((await store.claimExpired(1_000, 1)).map((r) => r.rawId)).toEqual([BOB]);
      expect((await store.claimExpired(1_000, 10)).map((r) => r.rawId)).toEqual([ALICE]);
      expect(await store.claimExpired(1_000, 10)).toEqual([]);
      // Claimed rows are still readable as stored (the routes decide what an expired one reads as).
      expect((await store.getMany([ALICE]))[0]?.state).toBe('busy');
    });

    it('a new put arms the expiry again', async () => {
      await store.put({ rawId: ALICE, state: 'busy', expiresOn: 100, updatedOn: 1 });
      expect(await store.claimExpired(200, 10)).toHaveLength(1);
      await store.put({ rawId: ALICE, state: 'away', expiresOn: 150, updatedOn: 2 });
      expect(await store.claimExpired(200, 10)).toEqual([
        { rawId: ALICE, state: 'away', expiresOn: 150, updatedOn: 2 },
      ]);
    });

    it('two handles on the same data (two processes) never both claim one expiry', async () => {
      const other = await fixture.open();
      try {
        for (let i = 0; i < 20; i++) {
          await store.put({
            rawId: `${ALICE.slice(0, -2)}${String(i).padStart(2, '0')}`,
            state: 'busy',
            expiresOn: 10,
            updatedOn: 1,
          });
        }
        const [a, b] = await Promise.all([store.claimExpired(100, 7), other.claimExpired(100, 7)]);
        const [c, d] = await Promise.all([store.claimExpired(100, 7), other.claimExpired(100, 7)]);
        const ids = [...a, ...b, ...c, ...d].map((r) => r.rawId);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
      } finally {
        await other.close();
      }
    });
  });
}
