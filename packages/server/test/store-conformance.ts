import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AccessKeyName,
  AccessKeyRecord,
  AuditEntry,
  AuditRecord,
  IdentityRecord,
  ResourceRecord,
  RevocationEvent,
  RoleAssignmentRecord,
  SigningKeyRecord,
  Store,
} from '../src/store/store.js';

/**
 * What a store implementation hands the conformance suite: a store on a fresh, empty database (migrated or
 * not — the suite calls `migrate()` itself), a way to open more instances on that same database (another
 * process's view), and a cleanup that removes the database once the suite has closed every instance.
 */
export interface StoreHarness {
  readonly store: Store;
  /** Opens another, independent store instance on the same database. */
  open(): Promise<Store>;
  /** Removes the database (temp dir, schema). Called after every instance has been closed. */
  cleanup(): Promise<void>;
}

/** Builds a {@link StoreHarness} on a fresh database; called once per test. */
export type StoreFactory = () => Promise<StoreHarness>;

/** Fixed clock: every timestamp in the suite is explicit and relative to this instant. */
const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);

/** Time-ordered, uuid-shaped ids (the caller supplies ids; the store never invents them). */
function idOf(n: number): string {
  return `01941f29-7c00-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

function resourceOf(n: number): ResourceRecord {
  return {
    resourceId: `0c4d5e6f-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    location: 'europe',
    createdAt: T0,
  };
}

/** Access keys tagged with `tag`, so a test can tell whose keys were stored. */
function keysOf(tag: string, at = T0): AccessKeyRecord[] {
  const names: AccessKeyName[] = ['primary', 'secondary', 'verifier'];
  return names.map((name) => ({ name, version: 1, secret: `enc:${name}:${tag}`, updatedAt: at }));
}

function signingKeyOf(kid: string, createdAt = T0): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    privateKey: `enc:private:${kid}`,
    publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}`, kid, alg: 'ES256', use: 'sig' }),
    createdAt,
    status: 'active',
    activatesAt: createdAt,
    retiredAt: undefined,
  };
}

function byName(keys: readonly AccessKeyRecord[]): AccessKeyRecord[] {
  return [...keys].sort((a, b) => a.name.localeCompare(b.name));
}

function expectStrictlyIncreasing(events: readonly RevocationEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    const previous = events[i - 1];
    const current = events[i];
    if (previous === undefined || current === undefined) throw new Error('unreachable');
    expect(current.seq).toBeGreaterThan(previous.seq);
  }
}

/** A live identity exactly as freshly created. */
function fresh(id: string, createdAt = T0, customId?: string): IdentityRecord {
  return { id, customId, createdAt, deletedAt: undefined, epoch: 0, lastTokenIssuedAt: undefined };
}

/**
 * Registers the one conformance suite every {@link Store} must pass. Written against the port only: it
 * pins down the documented semantics (idempotent creates, epochs, events in commit order, snapshots,
 * durability) and the concurrency the server relies on (several instances on one database at once).
 */
export function describeStoreConformance(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let open: Store[] = [];

    /** Another instance on the same database; closed by the suite after the test. */
    async function another(): Promise<Store> {
      const instance = await harness.open();
      open.push(instance);
      return instance;
    }

    async function closeStore(instance: Store): Promise<void> {
      open = open.filter((candidate) => candidate !== instance);
      await instance.close();
    }

    async function initialised(target: Store = store): Promise<void> {
      await target.initResource(resourceOf(1), keysOf('first'), signingKeyOf('kid-1'));
    }

    async function allEvents(target: Store = store): Promise<RevocationEvent[]> {
      return target.listEvents(0, 10_000);
    }

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
      open = [store];
    });

    afterEach(async () => {
      const closing = open;
      open = [];
      await Promise.all(closing.map((instance) => instance.close()));
      await harness.cleanup();
    });

    describe('migrate', () => {
      it('is idempotent: migrating again keeps schema and data', async () => {
        await store.migrate();
        await initialised();
        await store.createIdentity({ id: idOf(1), createdAt: T0 });
        await store.revokeIdentityTokens(idOf(1), T0 + 1);
        await store.migrate();
        await store.migrate();
        expect(await store.getIdentity(idOf(1))).toStrictEqual({ ...fresh(idOf(1)), epoch: 1 });
        expect(await allEvents()).toHaveLength(1);
        expect(await store.getResource()).toStrictEqual(resourceOf(1));
      });

      it('is safe when several store instances migrate the same database at once', async () => {
        const instances = [store, ...(await Promise.all([another(), another(), another()]))];
        await Promise.all(instances.map((instance) => instance.migrate()));
        await Promise.all(instances.map((instance) => instance.migrate()));
        await Promise.all(instances.map((instance) => instance.ping()));
        await Promise.all(instances.map((instance, i) => instance.createIdentity({ id: idOf(i + 1), createdAt: T0 })));
        for (const instance of instances) {
          for (let i = 0; i < instances.length; i++) {
            expect(await instance.getIdentity(idOf(i + 1))).toStrictEqual(fresh(idOf(i + 1)));
          }
        }
      });

      it('ping resolves on a migrated store', async () => {
        await store.migrate();
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('with a migrated database', () => {
      beforeEach(async () => {
        await store.migrate();
      });

      describe('resource', () => {
        it('is absent before initResource, with no keys and no events', async () => {
          expect(await store.getResource()).toBeUndefined();
          expect(await store.listAccessKeys()).toStrictEqual([]);
          expect(await store.listSigningKeys()).toStrictEqual([]);
          expect(await allEvents()).toStrictEqual([]);
        });

        it('initResource stores the resource, its access keys and the first signing key', async () => {
          const result = await store.initResource(resourceOf(1), keysOf('first'), signingKeyOf('kid-1'));
          expect(result).toStrictEqual({ resource: resourceOf(1), created: true });
          expect(await store.getResource()).toStrictEqual(resourceOf(1));
          expect(byName(await store.listAccessKeys())).toStrictEqual(byName(keysOf('first')));
          expect(await store.listSigningKeys()).toStrictEqual([signingKeyOf('kid-1')]);
          expect(await allEvents()).toStrictEqual([]);
        });

        it('initResource a second time keeps the first resource and keys and reports created: false', async () => {
          await initialised();
          const again = await store.initResource(
            resourceOf(2),
            keysOf('second', T0 + 5),
            signingKeyOf('kid-2', T0 + 5),
          );
          expect(again).toStrictEqual({ resource: resourceOf(1), created: false });
          expect(await store.getResource()).toStrictEqual(resourceOf(1));
          expect(byName(await store.listAccessKeys())).toStrictEqual(byName(keysOf('first')));
          expect(await store.listSigningKeys()).toStrictEqual([signingKeyOf('kid-1')]);
        });

        it('concurrent first starts on several instances agree on one resource', async () => {
          const instances = [store, ...(await Promise.all([another(), another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          const results = await Promise.all(
            instances.map((instance, i) =>
              instance.initResource(resourceOf(i + 1), keysOf(`start-${i + 1}`), signingKeyOf(`kid-${i + 1}`)),
            ),
          );
          expect(results.filter((result) => result.created)).toHaveLength(1);
          const winner = results.findIndex((result) => result.created);
          for (const result of results) expect(result.resource).toStrictEqual(resourceOf(winner + 1));
          for (const instance of instances) {
            expect(await instance.getResource()).toStrictEqual(resourceOf(winner + 1));
            expect(byName(await instance.listAccessKeys())).toStrictEqual(byName(keysOf(`start-${winner + 1}`)));
            expect(await instance.listSigningKeys()).toStrictEqual([signingKeyOf(`kid-${winner + 1}`)]);
          }
        });
      });

      describe('access keys', () => {
        it('regenerateAccessKey replaces the secret, bumps the version and appends key.regenerated', async () => {
          await initialised();
          const regenerated = await store.regenerateAccessKey('primary', 'enc:primary:rotated', T0 + 1_000);
          expect(regenerated).toStrictEqual({
            name: 'primary',
            version: 2,
            secret: 'enc:primary:rotated',
            updatedAt: T0 + 1_000,
          });
          const expected = keysOf('first').map((key) => (key.name === 'primary' ? regenerated : key));
          expect(byName(await store.listAccessKeys())).toStrictEqual(byName(expected));
          const events = await allEvents();
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({ type: 'key.regenerated', keyName: 'primary', version: 2, at: T0 + 1_000 });
          expect(events[0]?.seq).toBeGreaterThan(0);
        });

        it('each regeneration bumps the version again and appends its own event', async () => {
          await initialised();
          await store.regenerateAccessKey('secondary', 'enc:s2', T0 + 1);
          const third = await store.regenerateAccessKey('secondary', 'enc:s3', T0 + 2);
          expect(third).toStrictEqual({ name: 'secondary', version: 3, secret: 'enc:s3', updatedAt: T0 + 2 });
          const events = await allEvents();
          expect(
            events.map((event) => (event.type === 'key.regenerated' ? [event.keyName, event.version] : [])),
          ).toStrictEqual([
            ['secondary', 2],
            ['secondary', 3],
          ]);
          expectStrictlyIncreasing(events);
          const keys = await store.listAccessKeys();
          expect(keys.find((key) => key.name === 'primary')).toStrictEqual(keysOf('first')[0]);
        });

        it('the verifier key regenerates like the others but is not a minting key in the snapshot', async () => {
          await initialised();
          const verifier = await store.regenerateAccessKey('verifier', 'enc:verifier:2', T0 + 3);
          expect(verifier).toStrictEqual({ name: 'verifier', version: 2, secret: 'enc:verifier:2', updatedAt: T0 + 3 });
          const events = await allEvents();
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({ type: 'key.regenerated', keyName: 'verifier', version: 2 });
          const snapshot = await store.revocationSnapshot();
          expect(snapshot.keys).toStrictEqual({ primary: 1, secondary: 1 });
          expect(snapshot.seq).toBe(events[0]?.seq);
        });

        it('regenerating a key that does not exist rejects and appends nothing', async () => {
          await expect(store.regenerateAccessKey('primary', 'enc:nope', T0)).rejects.toThrow();
          expect(await allEvents()).toStrictEqual([]);
          expect(await store.listAccessKeys()).toStrictEqual([]);
        });
      });

      describe('signing keys', () => {
        it('addSigningKey adds the key as active and retires the previously active one', async () => {
          await initialised();
          await store.addSigningKey(signingKeyOf('kid-2', T0 + 10));
          let keys = await store.listSigningKeys();
          expect(keys).toHaveLength(2);
          expect(keys.find((key) => key.kid === 'kid-1')).toStrictEqual({
            ...signingKeyOf('kid-1'),
            status: 'retired',
            retiredAt: T0 + 10,
          });
          expect(keys.find((key) => key.kid === 'kid-2')).toStrictEqual(signingKeyOf('kid-2', T0 + 10));

          await store.addSigningKey(signingKeyOf('kid-3', T0 + 20));
          keys = await store.listSigningKeys();
          expect(keys).toHaveLength(3);
          expect(keys.filter((key) => key.status === 'active').map((key) => key.kid)).toStrictEqual(['kid-3']);
          expect(keys.find((key) => key.kid === 'kid-2')).toStrictEqual({
            ...signingKeyOf('kid-2', T0 + 10),
            status: 'retired',
            retiredAt: T0 + 20,
          });
          // Retired keys keep everything JWKS needs to verify tokens in flight.
          expect(keys.find((key) => key.kid === 'kid-1')?.publicJwk).toBe(signingKeyOf('kid-1').publicJwk);
        });

        it('concurrent rollovers through several instances leave exactly one active key', async () => {
          await initialised();
          const instances = [store, ...(await Promise.all([another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          await Promise.all(
            Array.from({ length: 9 }, (_, i) =>
              (instances[i % instances.length] ?? store).addSigningKey(signingKeyOf(`kid-r${i}`, T0 + 10 + i)),
            ),
          );
          const keys = await store.listSigningKeys();
          expect(keys).toHaveLength(10);
          expect(keys.filter((key) => key.status === 'active')).toHaveLength(1);
        });

        it('signing key changes append no revocation events', async () => {
          await initialised();
          await store.addSigningKey(signingKeyOf('kid-2', T0 + 10));
          expect(await allEvents()).toStrictEqual([]);
        });
      });

      describe('createIdentity', () => {
        it('creates a live identity at epoch 0 with no customId and no token issued', async () => {
          const result = await store.createIdentity({ id: idOf(1), createdAt: T0 });
          expect(result).toStrictEqual({ identity: fresh(idOf(1)), created: true });
          expect(await store.getIdentity(idOf(1))).toStrictEqual(fresh(idOf(1)));
        });

        it('creates distinct identities and appends no events', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          const second = await store.createIdentity({ id: idOf(2), createdAt: T0 + 1 });
          expect(second).toStrictEqual({ identity: fresh(idOf(2), T0 + 1), created: true });
          expect(await store.getIdentity(idOf(1))).toStrictEqual(fresh(idOf(1)));
          expect(await allEvents()).toStrictEqual([]);
        });

        it('getIdentity of an unknown id is undefined', async () => {
          expect(await store.getIdentity(idOf(404))).toBeUndefined();
        });

        it('is idempotent on customId: a second create returns the first identity with created: false', async () => {
          const first = await store.createIdentity({ id: idOf(1), customId: 'alice@example.test', createdAt: T0 });
          expect(first).toStrictEqual({ identity: fresh(idOf(1), T0, 'alice@example.test'), created: true });
          const again = await store.createIdentity({ id: idOf(2), customId: 'alice@example.test', createdAt: T0 + 5 });
          expect(again).toStrictEqual({ identity: fresh(idOf(1), T0, 'alice@example.test'), created: false });
          expect(await store.getIdentity(idOf(2))).toBeUndefined();
          const other = await store.createIdentity({ id: idOf(3), customId: 'bob@example.test', createdAt: T0 + 6 });
          expect(other.created).toBe(true);
          expect(other.identity.id).toBe(idOf(3));
        });

        it('20 concurrent creates with one customId yield one identity', async () => {
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              store.createIdentity({ id: idOf(100 + i), customId: 'race@example.test', createdAt: T0 + i }),
            ),
          );
          expect(results.filter((result) => result.created)).toHaveLength(1);
          const winner = results.find((result) => result.created)?.identity;
          expect(winner?.customId).toBe('race@example.test');
          for (const result of results) expect(result.identity).toStrictEqual(winner);
          let stored = 0;
          for (let i = 0; i < 20; i++) if ((await store.getIdentity(idOf(100 + i))) !== undefined) stored++;
          expect(stored).toBe(1);
        });

        it('concurrent creates with one customId through several instances yield one identity', async () => {
          const instances = [store, ...(await Promise.all([another(), another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (instances[i % instances.length] ?? store).createIdentity({
                id: idOf(200 + i),
                customId: 'shared@example.test',
                createdAt: T0 + i,
              }),
            ),
          );
          expect(results.filter((result) => result.created)).toHaveLength(1);
          const ids = new Set(results.map((result) => result.identity.id));
          expect(ids.size).toBe(1);
        });

        it('is idempotent on requestKey (Repeatability-Request-ID): a retry returns the first identity', async () => {
          const first = await store.createIdentity({ id: idOf(1), requestKey: 'req-1', createdAt: T0 });
          expect(first).toStrictEqual({ identity: fresh(idOf(1)), created: true });
          const retry = await store.createIdentity({ id: idOf(2), requestKey: 'req-1', createdAt: T0 + 1 });
          expect(retry).toStrictEqual({ identity: fresh(idOf(1)), created: false });
          expect(await store.getIdentity(idOf(2))).toBeUndefined();
          const other = await store.createIdentity({ id: idOf(3), requestKey: 'req-2', createdAt: T0 + 2 });
          expect(other).toStrictEqual({ identity: fresh(idOf(3), T0 + 2), created: true });
        });

        it('concurrent retries with one requestKey yield one identity', async () => {
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.createIdentity({ id: idOf(300 + i), requestKey: 'req-race', createdAt: T0 + i }),
            ),
          );
          expect(results.filter((result) => result.created)).toHaveLength(1);
          expect(new Set(results.map((result) => result.identity.id)).size).toBe(1);
        });

        it('a deleted identity releases its customId: a new identity can take it', async () => {
          await store.createIdentity({ id: idOf(1), customId: 'carol@example.test', createdAt: T0 });
          await store.deleteIdentity(idOf(1), T0 + 10);
          const reborn = await store.createIdentity({
            id: idOf(2),
            customId: 'carol@example.test',
            createdAt: T0 + 20,
          });
          expect(reborn).toStrictEqual({ identity: fresh(idOf(2), T0 + 20, 'carol@example.test'), created: true });
          const again = await store.createIdentity({ id: idOf(3), customId: 'carol@example.test', createdAt: T0 + 30 });
          expect(again).toStrictEqual({ identity: fresh(idOf(2), T0 + 20, 'carol@example.test'), created: false });
          const tombstone = await store.getIdentity(idOf(1));
          expect(tombstone?.deletedAt).toBe(T0 + 10);
          expect(tombstone?.epoch).toBe(1);
        });
      });

      describe('deleteIdentity', () => {
        it('tombstones the identity, bumps its epoch and appends identity.deleted', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          const deleted = await store.deleteIdentity(idOf(1), T0 + 100);
          expect(deleted).toMatchObject({ id: idOf(1), createdAt: T0, deletedAt: T0 + 100, epoch: 1 });
          // getIdentity still returns the tombstone, so its tokens are judged "deleted", not "unknown".
          expect(await store.getIdentity(idOf(1))).toStrictEqual(deleted);
          const events = await allEvents();
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({ type: 'identity.deleted', identityId: idOf(1), epoch: 1, at: T0 + 100 });
        });

        it('keeps createdAt and lastTokenIssuedAt and bumps an already revoked epoch', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.recordTokensIssued([{ id: idOf(1), at: T0 + 5 }]);
          await store.revokeIdentityTokens(idOf(1), T0 + 6);
          const deleted = await store.deleteIdentity(idOf(1), T0 + 7);
          expect(deleted).toMatchObject({ createdAt: T0, lastTokenIssuedAt: T0 + 5, deletedAt: T0 + 7, epoch: 2 });
        });

        it('of an unknown id is undefined and appends nothing', async () => {
          expect(await store.deleteIdentity(idOf(404), T0)).toBeUndefined();
          expect(await store.getIdentity(idOf(404))).toBeUndefined();
          expect(await allEvents()).toStrictEqual([]);
        });

        it('deleting twice returns the tombstone unchanged and appends no second event', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          const first = await store.deleteIdentity(idOf(1), T0 + 1);
          const second = await store.deleteIdentity(idOf(1), T0 + 2);
          expect(second).toStrictEqual(first);
          expect(second?.deletedAt).toBe(T0 + 1);
          expect(second?.epoch).toBe(1);
          expect(await allEvents()).toHaveLength(1);
        });
      });

      describe('listIdentities', () => {
        it('lists live identities in id order, a page at a time, and by customId', async () => {
          for (const n of [3, 1, 5, 2, 4]) {
            await store.createIdentity({ id: idOf(n), createdAt: T0 + n, customId: n === 4 ? 'four' : undefined });
          }
          await store.deleteIdentity(idOf(2), T0 + 10);
          await store.revokeIdentityTokens(idOf(3), T0 + 11);
          const ids = (records: readonly IdentityRecord[]) => records.map((r) => r.id);
          expect(ids(await store.listIdentities({ limit: 100 }))).toStrictEqual([idOf(1), idOf(3), idOf(4), idOf(5)]);
          const first = await store.listIdentities({ limit: 2 });
          expect(ids(first)).toStrictEqual([idOf(1), idOf(3)]);
          const second = await store.listIdentities({ limit: 2, afterId: first.at(-1)?.id });
          expect(ids(second)).toStrictEqual([idOf(4), idOf(5)]);
          expect(await store.listIdentities({ limit: 2, afterId: idOf(5) })).toStrictEqual([]);
          expect(await store.listIdentities({ limit: 10, customId: 'four' })).toStrictEqual([
            await store.getIdentity(idOf(4)),
          ]);
          expect(await store.listIdentities({ limit: 10, customId: 'nobody' })).toStrictEqual([]);
        });
      });

      describe('revokeIdentityTokens', () => {
        it('bumps the epoch each time and appends identity.revoked with the new epoch', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          for (let i = 1; i <= 3; i++) {
            const revoked = await store.revokeIdentityTokens(idOf(1), T0 + i);
            expect(revoked).toStrictEqual({ ...fresh(idOf(1)), epoch: i });
          }
          expect(await store.getIdentity(idOf(1))).toStrictEqual({ ...fresh(idOf(1)), epoch: 3 });
          const events = await allEvents();
          expect(events.map((event) => event.type)).toStrictEqual([
            'identity.revoked',
            'identity.revoked',
            'identity.revoked',
          ]);
          expect(
            events.map((event) =>
              event.type === 'key.regenerated' ? undefined : [event.identityId, event.epoch, event.at],
            ),
          ).toStrictEqual([
            [idOf(1), 1, T0 + 1],
            [idOf(1), 2, T0 + 2],
            [idOf(1), 3, T0 + 3],
          ]);
          expectStrictlyIncreasing(events);
        });

        it('of an unknown id is undefined and appends nothing', async () => {
          expect(await store.revokeIdentityTokens(idOf(404), T0)).toBeUndefined();
          expect(await allEvents()).toStrictEqual([]);
        });

        it('of a deleted identity returns it unchanged and appends nothing', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          const tombstone = await store.deleteIdentity(idOf(1), T0 + 1);
          const revoked = await store.revokeIdentityTokens(idOf(1), T0 + 2);
          expect(revoked).toStrictEqual(tombstone);
          expect(await store.getIdentity(idOf(1))).toStrictEqual(tombstone);
          expect(await allEvents()).toHaveLength(1);
        });

        it('concurrent revokes of one identity each get their own epoch, in seq order', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) => store.revokeIdentityTokens(idOf(1), T0 + i)),
          );
          expect(new Set(results.map((result) => result?.epoch))).toStrictEqual(
            new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
          );
          expect((await store.getIdentity(idOf(1)))?.epoch).toBe(10);
          const events = await allEvents();
          expectStrictlyIncreasing(events);
          // Seq order is commit order: the epochs appear in the feed in the order they were reached.
          expect(events.map((event) => (event.type === 'key.regenerated' ? 0 : event.epoch))).toStrictEqual([
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
          ]);
        });
      });

      describe('recordTokensIssued', () => {
        it('records the issue time; a later time wins and an earlier one is ignored', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.recordTokensIssued([{ id: idOf(1), at: T0 + 50 }]);
          expect((await store.getIdentity(idOf(1)))?.lastTokenIssuedAt).toBe(T0 + 50);
          await store.recordTokensIssued([{ id: idOf(1), at: T0 + 80 }]);
          expect((await store.getIdentity(idOf(1)))?.lastTokenIssuedAt).toBe(T0 + 80);
          await store.recordTokensIssued([{ id: idOf(1), at: T0 + 60 }]);
          expect((await store.getIdentity(idOf(1)))?.lastTokenIssuedAt).toBe(T0 + 80);
        });

        it('takes a batch: several ids, duplicates (latest wins) and unknown ids (ignored)', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.createIdentity({ id: idOf(2), createdAt: T0 });
          await store.createIdentity({ id: idOf(3), createdAt: T0 });
          await store.recordTokensIssued([{ id: idOf(3), at: T0 + 500 }]);
          await store.recordTokensIssued([
            { id: idOf(1), at: T0 + 10 },
            { id: idOf(2), at: T0 + 30 },
            { id: idOf(404), at: T0 + 40 },
            { id: idOf(1), at: T0 + 20 },
            { id: idOf(2), at: T0 + 25 },
            { id: idOf(3), at: T0 + 100 },
          ]);
          expect((await store.getIdentity(idOf(1)))?.lastTokenIssuedAt).toBe(T0 + 20);
          expect((await store.getIdentity(idOf(2)))?.lastTokenIssuedAt).toBe(T0 + 30);
          expect((await store.getIdentity(idOf(3)))?.lastTokenIssuedAt).toBe(T0 + 500);
          expect(await store.getIdentity(idOf(404))).toBeUndefined();
        });

        it('an empty batch resolves; issue times change no epoch and append no event', async () => {
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await expect(store.recordTokensIssued([])).resolves.toBeUndefined();
          await store.recordTokensIssued([{ id: idOf(1), at: T0 + 1 }]);
          expect(await store.getIdentity(idOf(1))).toStrictEqual({ ...fresh(idOf(1)), lastTokenIssuedAt: T0 + 1 });
          expect(await allEvents()).toStrictEqual([]);
        });
      });

      describe('listEvents', () => {
        /** a revoked, primary regenerated, b deleted, a revoked again. */
        async function mixedHistory(): Promise<void> {
          await initialised();
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.createIdentity({ id: idOf(2), createdAt: T0 });
          await store.revokeIdentityTokens(idOf(1), T0 + 1);
          await store.regenerateAccessKey('primary', 'enc:p2', T0 + 2);
          await store.deleteIdentity(idOf(2), T0 + 3);
          await store.revokeIdentityTokens(idOf(1), T0 + 4);
        }

        it('is empty on a fresh store', async () => {
          expect(await store.listEvents(0, 100)).toStrictEqual([]);
        });

        it('returns every event oldest first with strictly increasing positive seq', async () => {
          await mixedHistory();
          const events = await allEvents();
          expect(events.map(({ seq: _seq, ...rest }) => rest)).toStrictEqual([
            { at: T0 + 1, type: 'identity.revoked', identityId: idOf(1), epoch: 1 },
            { at: T0 + 2, type: 'key.regenerated', keyName: 'primary', version: 2 },
            { at: T0 + 3, type: 'identity.deleted', identityId: idOf(2), epoch: 1 },
            { at: T0 + 4, type: 'identity.revoked', identityId: idOf(1), epoch: 2 },
          ]);
          expect(events[0]?.seq).toBeGreaterThan(0);
          expectStrictlyIncreasing(events);
        });

        it('afterSeq returns only later events', async () => {
          await mixedHistory();
          const events = await allEvents();
          const second = events[1];
          const last = events[events.length - 1];
          if (second === undefined || last === undefined) throw new Error('expected four events');
          expect(await store.listEvents(second.seq, 100)).toStrictEqual(events.slice(2));
          expect(await store.listEvents(last.seq, 100)).toStrictEqual([]);
        });

        it('limit caps the page; paging one by one reproduces the whole feed', async () => {
          await mixedHistory();
          const events = await allEvents();
          expect(await store.listEvents(0, 2)).toStrictEqual(events.slice(0, 2));
          const paged: RevocationEvent[] = [];
          let cursor = 0;
          for (;;) {
            const page = await store.listEvents(cursor, 1);
            if (page.length === 0) break;
            expect(page).toHaveLength(1);
            paged.push(...page);
            cursor = page[0]?.seq ?? cursor;
          }
          expect(paged).toStrictEqual(events);
        });

        it('events appended through several instances form one strictly ordered feed', async () => {
          const instances = [store, ...(await Promise.all([another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          for (let i = 0; i < 30; i++) await store.createIdentity({ id: idOf(i + 1), createdAt: T0 });
          await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              (instances[i % instances.length] ?? store).revokeIdentityTokens(idOf(i + 1), T0 + i),
            ),
          );
          for (const instance of instances) {
            const events = await allEvents(instance);
            expect(events).toHaveLength(30);
            expectStrictlyIncreasing(events);
            expect(
              new Set(events.map((event) => (event.type === 'key.regenerated' ? '' : event.identityId))),
            ).toStrictEqual(new Set(Array.from({ length: 30 }, (_, i) => idOf(i + 1))));
          }
        });
      });

      describe('revocationSnapshot', () => {
        it('of a fresh resource has seq 0, no identities and version 1 keys', async () => {
          await initialised();
          expect(await store.revocationSnapshot()).toStrictEqual({
            seq: 0,
            identities: [],
            keys: { primary: 1, secondary: 1 },
          });
        });

        it('lists only revoked or deleted identities, current key versions and the last seq', async () => {
          await initialised();
          for (let i = 1; i <= 4; i++) await store.createIdentity({ id: idOf(i), createdAt: T0 });
          await store.revokeIdentityTokens(idOf(1), T0 + 1);
          await store.revokeIdentityTokens(idOf(1), T0 + 2);
          await store.deleteIdentity(idOf(2), T0 + 3);
          await store.recordTokensIssued([{ id: idOf(4), at: T0 + 4 }]);
          await store.regenerateAccessKey('secondary', 'enc:s2', T0 + 5);
          const snapshot = await store.revocationSnapshot();
          const events = await allEvents();
          expect(snapshot.seq).toBe(events[events.length - 1]?.seq);
          expect(snapshot.keys).toStrictEqual({ primary: 1, secondary: 2 });
          expect([...snapshot.identities].sort((a, b) => a.id.localeCompare(b.id))).toStrictEqual([
            { id: idOf(1), epoch: 2, deleted: false, at: T0 + 2 },
            { id: idOf(2), epoch: 1, deleted: true, at: T0 + 3 },
          ]);
        });

        it('a follower resuming from the snapshot seq sees exactly the later events', async () => {
          await initialised();
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.revokeIdentityTokens(idOf(1), T0 + 1);
          const snapshot = await store.revocationSnapshot();
          expect(await store.listEvents(snapshot.seq, 100)).toStrictEqual([]);
          await store.revokeIdentityTokens(idOf(1), T0 + 2);
          const later = await store.listEvents(snapshot.seq, 100);
          expect(later).toHaveLength(1);
          expect(later[0]).toMatchObject({ type: 'identity.revoked', identityId: idOf(1), epoch: 2 });
        });
      });

      describe('role assignments and custom roles', () => {
        function assignmentOf(n: number, overrides: Partial<RoleAssignmentRecord> = {}): RoleAssignmentRecord {
          return {
            id: `a0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
            role: 'reader',
            issuer: 'https://issuer.example',
            principalType: 'subject',
            principalId: `principal-${n}`,
            description: undefined,
            createdAt: T0 + n,
            createdBy: 'key:primary',
            ...overrides,
          };
        }

        it('starts empty at roles version 0', async () => {
          expect(await store.listRoleAssignments()).toStrictEqual([]);
          expect(await store.listRoleDefinitions()).toStrictEqual([]);
          expect(await store.rolesVersion()).toBe(0);
        });

        it('adds, lists (oldest first) and removes assignments, bumping the version on each change only', async () => {
          const first = assignmentOf(1, { description: 'the first' });
          const second = assignmentOf(2, { principalType: 'group', principalId: 'g-1', role: 'custom-role' });
          expect(await store.addRoleAssignment(first)).toStrictEqual({ assignment: first, created: true });
          expect(await store.addRoleAssignment(second)).toStrictEqual({ assignment: second, created: true });
          expect(await store.listRoleAssignments()).toStrictEqual([first, second]);
          expect(await store.rolesVersion()).toBe(2);
          expect(await store.removeRoleAssignment(first.id)).toBe(true);
          expect(await store.removeRoleAssignment(first.id)).toBe(false);
          expect(await store.listRoleAssignments()).toStrictEqual([second]);
          expect(await store.rolesVersion()).toBe(3);
          // Role changes are not revocation events.
          expect(await allEvents()).toStrictEqual([]);
        });

        it('the same role for the same principal of the same issuer is stored once (created: false, no bump)', async () => {
          const first = assignmentOf(1);
          await store.addRoleAssignment(first);
          const again = await store.addRoleAssignment(assignmentOf(9, { principalId: first.principalId }));
          expect(again).toStrictEqual({ assignment: first, created: false });
          expect(await store.rolesVersion()).toBe(1);
          // Another role, issuer or principal type is another assignment.
          for (const other of [
            assignmentOf(10, { principalId: first.principalId, role: 'auditor' }),
            assignmentOf(11, { principalId: first.principalId, issuer: 'https://other.example' }),
            assignmentOf(12, { principalId: first.principalId, principalType: 'objectId' }),
          ]) {
            expect((await store.addRoleAssignment(other)).created).toBe(true);
          }
          expect(await store.listRoleAssignments()).toHaveLength(4);
        });

        it('concurrent identical assignments through several instances store one', async () => {
          const instances = [store, ...(await Promise.all([another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          const results = await Promise.all(
            Array.from({ length: 9 }, (_, i) =>
              (instances[i % instances.length] ?? store).addRoleAssignment(
                assignmentOf(100 + i, { principalId: 'same' }),
              ),
            ),
          );
          expect(results.filter((r) => r.created)).toHaveLength(1);
          expect(new Set(results.map((r) => r.assignment.id)).size).toBe(1);
          expect(await store.rolesVersion()).toBe(1);
        });

        it('puts, replaces and removes custom roles; a role still assigned cannot be removed', async () => {
          const role = { name: 'custom-role', description: 'd', actions: ['identities/read'], updatedAt: T0 };
          await store.putRoleDefinition(role);
          expect(await store.listRoleDefinitions()).toStrictEqual([role]);
          const replaced = {
            name: 'custom-role',
            description: undefined,
            actions: ['tokens/issue', 'identities/read'],
            updatedAt: T0 + 1,
          };
          await store.putRoleDefinition(replaced);
          expect(await store.listRoleDefinitions()).toStrictEqual([replaced]);
          expect(await store.rolesVersion()).toBe(2);
          const assignment = assignmentOf(1, { role: 'custom-role' });
          await store.addRoleAssignment(assignment);
          expect(await store.removeRoleDefinition('custom-role')).toBe('assigned');
          expect(await store.listRoleDefinitions()).toStrictEqual([replaced]);
          expect(await store.rolesVersion()).toBe(3);
          await store.removeRoleAssignment(assignment.id);
          expect(await store.removeRoleDefinition('custom-role')).toBe('removed');
          expect(await store.removeRoleDefinition('custom-role')).toBe('unknown');
          expect(await store.listRoleDefinitions()).toStrictEqual([]);
          expect(await store.rolesVersion()).toBe(5);
        });

        it('a change through one instance moves the version every instance reads', async () => {
          const other = await another();
          await other.migrate();
          await other.addRoleAssignment(assignmentOf(1));
          expect(await store.rolesVersion()).toBe(1);
          expect(await store.listRoleAssignments()).toStrictEqual([assignmentOf(1)]);
        });
      });

      describe('audit', () => {
        function entryOf(n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
          return {
            at: T0 + n * 1000,
            actor: 'key:primary',
            operation: 'identity.create',
            identityId: idOf(n),
            outcome: 'success',
            status: 201,
            code: undefined,
            requestId: `req-${n}`,
            detail: undefined,
            ...overrides,
          };
        }
        const strip = (records: readonly AuditRecord[]) => records.map(({ seq: _seq, ...entry }) => entry);

        it('appends batches in order and lists newest first with increasing seq', async () => {
          await store.appendAudit([entryOf(1), entryOf(2, { outcome: 'failure', status: 403, code: 'ERR_FORBIDDEN' })]);
          await store.appendAudit([]);
          await store.appendAudit([
            entryOf(3, { identityId: undefined, detail: 'key=secondary', operation: 'admin.keys.regenerate' }),
          ]);
          const all = await store.listAudit({ limit: 100 });
          expect(strip(all)).toStrictEqual([
            entryOf(3, { identityId: undefined, detail: 'key=secondary', operation: 'admin.keys.regenerate' }),
            entryOf(2, { outcome: 'failure', status: 403, code: 'ERR_FORBIDDEN' }),
            entryOf(1),
          ]);
          expect(all[0]?.seq).toBeGreaterThan(all[1]?.seq ?? Number.POSITIVE_INFINITY);
          expect(all[1]?.seq).toBeGreaterThan(all[2]?.seq ?? Number.POSITIVE_INFINITY);
          expect(await allEvents()).toStrictEqual([]);
        });

        it('filters by identity, since and beforeSeq, and honours the limit', async () => {
          await store.appendAudit([entryOf(1), entryOf(2), entryOf(3, { identityId: idOf(1) }), entryOf(4)]);
          expect(strip(await store.listAudit({ identityId: idOf(1), limit: 10 }))).toStrictEqual([
            entryOf(3, { identityId: idOf(1) }),
            entryOf(1),
          ]);
          expect(strip(await store.listAudit({ since: T0 + 3000, limit: 10 }))).toStrictEqual([
            entryOf(4),
            entryOf(3, { identityId: idOf(1) }),
          ]);
          const page = await store.listAudit({ limit: 2 });
          expect(strip(page)).toStrictEqual([entryOf(4), entryOf(3, { identityId: idOf(1) })]);
          const next = await store.listAudit({ limit: 2, beforeSeq: page[1]?.seq });
          expect(strip(next)).toStrictEqual([entryOf(2), entryOf(1)]);
          expect(await store.listAudit({ identityId: idOf(404), limit: 10 })).toStrictEqual([]);
        });

        it('concurrent appends from several instances all land', async () => {
          const instances = [store, ...(await Promise.all([another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          await Promise.all(
            Array.from({ length: 12 }, (_, i) =>
              (instances[i % instances.length] ?? store).appendAudit([entryOf(i * 2), entryOf(i * 2 + 1)]),
            ),
          );
          const all = await store.listAudit({ limit: 1000 });
          expect(all).toHaveLength(24);
          expect(new Set(all.map((r) => r.seq)).size).toBe(24);
        });
      });

      describe('pruning (state bounded by the token lifetime)', () => {
        const NONE = { revocations: 0, tombstones: 0, events: 0, audit: 0, signingKeys: 0, skipped: false };
        const cut = (before: number, more: { auditBefore?: number; batch?: number } = {}) => ({
          revocationsBefore: before,
          signingKeysBefore: 0,
          auditBefore: more.auditBefore,
          batch: more.batch ?? 100,
        });
        const sorted = <T extends { id: string }>(list: readonly T[]) =>
          [...list].sort((a, b) => a.id.localeCompare(b.id));

        it('drops revocation entries, tombstones and events older than the cut and keeps the newer ones', async () => {
          await initialised();
          for (let i = 1; i <= 4; i++) await store.createIdentity({ id: idOf(i), createdAt: T0 });
          await store.revokeIdentityTokens(idOf(1), T0 + 1);
          await store.deleteIdentity(idOf(2), T0 + 2);
          await store.regenerateAccessKey('secondary', 'enc:s2', T0 + 3);
          await store.revokeIdentityTokens(idOf(3), T0 + 100);
          await store.deleteIdentity(idOf(4), T0 + 101);
          const before = await store.revocationSnapshot();
          const events = await allEvents();
          expect(await store.eventsPrunedThrough()).toBe(0);

          expect(await store.prune(cut(T0 + 50))).toStrictEqual({ ...NONE, revocations: 1, tombstones: 1, events: 3 });
          const after = await store.revocationSnapshot();
          expect(after.seq).toBe(before.seq);
          expect(after.keys).toStrictEqual({ primary: 1, secondary: 2 });
          expect(sorted(after.identities)).toStrictEqual([
            { id: idOf(3), epoch: 1, deleted: false, at: T0 + 100 },
            { id: idOf(4), epoch: 1, deleted: true, at: T0 + 101 },
          ]);
          // A revoked identity keeps its epoch (new tokens carry it); a deleted one is gone.
          expect(await store.getIdentity(idOf(1))).toMatchObject({ epoch: 1, deletedAt: undefined });
          expect(await store.getIdentity(idOf(2))).toBeUndefined();
          expect(await allEvents()).toStrictEqual(events.slice(3));
          expect(await store.eventsPrunedThrough()).toBe(events[2]?.seq);
          // Idempotent: nothing more is due at the same cut.
          expect(await store.prune(cut(T0 + 50))).toStrictEqual(NONE);
        });

        it('an identity revoked again after the cut stays listed, with its latest time', async () => {
          await initialised();
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.revokeIdentityTokens(idOf(1), T0 + 1);
          await store.revokeIdentityTokens(idOf(1), T0 + 100);
          await store.prune(cut(T0 + 50));
          expect((await store.revocationSnapshot()).identities).toStrictEqual([
            { id: idOf(1), epoch: 2, deleted: false, at: T0 + 100 },
          ]);
        });

        it('when every event is pruned, seqs carry on from where they were', async () => {
          await initialised();
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          await store.revokeIdentityTokens(idOf(1), T0 + 1);
          await store.revokeIdentityTokens(idOf(1), T0 + 2);
          const last = (await store.revocationSnapshot()).seq;
          await store.prune(cut(T0 + 10));
          expect(await allEvents()).toStrictEqual([]);
          expect(await store.revocationSnapshot()).toMatchObject({ seq: last, identities: [] });
          expect(await store.eventsPrunedThrough()).toBe(last);
          await store.revokeIdentityTokens(idOf(1), T0 + 20);
          expect((await allEvents()).map((event) => event.seq)).toStrictEqual([last + 1]);
        });

        it('a pruned tombstone takes its Repeatability-Request-ID with it', async () => {
          await initialised();
          const requestKey = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
          await store.createIdentity({ id: idOf(1), requestKey, createdAt: T0 });
          await store.deleteIdentity(idOf(1), T0 + 1);
          expect((await store.createIdentity({ id: idOf(2), requestKey, createdAt: T0 + 2 })).created).toBe(false);
          await store.prune(cut(T0 + 10));
          const again = await store.createIdentity({ id: idOf(3), requestKey, createdAt: T0 + 20 });
          expect(again).toStrictEqual({ identity: fresh(idOf(3), T0 + 20), created: true });
        });

        it('removes at most `batch` rows of each kind per call, oldest first', async () => {
          await initialised();
          for (let i = 1; i <= 5; i++) {
            await store.createIdentity({ id: idOf(i), createdAt: T0 });
            await store.revokeIdentityTokens(idOf(i), T0 + i);
          }
          const counts: number[] = [];
          for (let round = 0; round < 3; round++) {
            const result = await store.prune(cut(T0 + 100, { batch: 2 }));
            counts.push(result.revocations);
            expect(result.events).toBe(result.revocations);
          }
          expect(counts).toStrictEqual([2, 2, 1]);
          expect((await store.revocationSnapshot()).identities).toStrictEqual([]);
        });

        it('keeps audit entries for their own retention, and for ever without one', async () => {
          const entry = (at: number): AuditEntry => ({
            at,
            actor: 'key:primary',
            operation: 'identity.create',
            identityId: undefined,
            outcome: 'success',
            status: 201,
            code: undefined,
            requestId: `req-${at}`,
            detail: undefined,
          });
          await store.appendAudit([entry(T0), entry(T0 + 10), entry(T0 + 20)]);
          expect((await store.prune(cut(T0 + 1000))).audit).toBe(0);
          expect(await store.prune(cut(T0, { auditBefore: T0 + 15 }))).toStrictEqual({ ...NONE, audit: 2 });
          expect((await store.listAudit({ limit: 10 })).map((record) => record.at)).toStrictEqual([T0 + 20]);
        });

        it('removes retired signing keys once retired before the cut, never the active one', async () => {
          await initialised();
          await store.addSigningKey({ ...signingKeyOf('kid-2', T0 + 5), activatesAt: T0 + 10 });
          const prune = (signingKeysBefore: number) =>
            store.prune({ revocationsBefore: 0, signingKeysBefore, auditBefore: undefined, batch: 100 });
          expect((await prune(T0 + 10)).signingKeys).toBe(0);
          expect((await prune(T0 + 11)).signingKeys).toBe(1);
          expect((await prune(T0 + 1_000_000)).signingKeys).toBe(0);
          expect((await store.listSigningKeys()).map((key) => [key.kid, key.status])).toStrictEqual([
            ['kid-2', 'active'],
          ]);
        });

        it('concurrent prunes through several instances remove each row once', async () => {
          await initialised();
          const instances = [store, ...(await Promise.all([another(), another()]))];
          await Promise.all(instances.map((instance) => instance.migrate()));
          for (let i = 1; i <= 30; i++) {
            await store.createIdentity({ id: idOf(i), createdAt: T0 });
            if (i % 2 === 0) await store.deleteIdentity(idOf(i), T0 + i);
            else await store.revokeIdentityTokens(idOf(i), T0 + i);
          }
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) =>
              (instances[i % instances.length] ?? store).prune(cut(T0 + 1000, { batch: 4 })),
            ),
          );
          // Whatever was skipped is picked up by a later run; in total every row goes exactly once.
          let rest = await store.prune(cut(T0 + 1000, { batch: 100 }));
          while (rest.skipped) rest = await store.prune(cut(T0 + 1000, { batch: 100 }));
          const all = [...results, rest];
          expect(all.reduce((n, r) => n + r.revocations, 0)).toBe(15);
          expect(all.reduce((n, r) => n + r.tombstones, 0)).toBe(15);
          expect(all.reduce((n, r) => n + r.events, 0)).toBe(30);
          expect((await store.revocationSnapshot()).identities).toStrictEqual([]);
        });
      });

      describe('resealSecrets (master key rotation)', () => {
        it('replaces a secret only while it still holds the expected sealed text', async () => {
          await initialised();
          const replaced = await store.resealSecrets([
            { kind: 'accessKey', name: 'primary', from: 'enc:primary:first', to: 'enc2:primary' },
            { kind: 'accessKey', name: 'secondary', from: 'enc:stale', to: 'enc2:secondary' },
            { kind: 'signingKey', name: 'kid-1', from: 'enc:private:kid-1', to: 'enc2:private:kid-1' },
          ]);
          expect(replaced).toBe(2);
          const keys = byName(await store.listAccessKeys());
          expect(keys.map((key) => key.secret)).toStrictEqual([
            'enc2:primary',
            'enc:secondary:first',
            'enc:verifier:first',
          ]);
          // Versions are untouched: re-sealing is not a regeneration and revokes nothing.
          expect(keys.map((key) => key.version)).toStrictEqual([1, 1, 1]);
          expect((await store.listSigningKeys())[0]?.privateKey).toBe('enc2:private:kid-1');
          expect(await allEvents()).toStrictEqual([]);
          // Re-running (after a crash midway) changes nothing more.
          expect(
            await store.resealSecrets([
              { kind: 'accessKey', name: 'primary', from: 'enc:primary:first', to: 'enc3:primary' },
            ]),
          ).toBe(0);
        });
      });

      describe('durability', () => {
        it('everything written is visible from a second instance opened after close', async () => {
          await initialised();
          await store.regenerateAccessKey('primary', 'enc:p2', T0 + 1);
          await store.addSigningKey(signingKeyOf('kid-2', T0 + 2));
          await store.createIdentity({ id: idOf(1), customId: 'dave@example.test', createdAt: T0 + 3 });
          await store.createIdentity({ id: idOf(2), requestKey: 'req-dave', createdAt: T0 + 4 });
          await store.recordTokensIssued([{ id: idOf(1), at: T0 + 5 }]);
          await store.revokeIdentityTokens(idOf(1), T0 + 6);
          await store.deleteIdentity(idOf(2), T0 + 7);
          const before = {
            resource: await store.getResource(),
            keys: byName(await store.listAccessKeys()),
            signingKeys: await store.listSigningKeys(),
            identities: [await store.getIdentity(idOf(1)), await store.getIdentity(idOf(2))],
            events: await allEvents(),
            snapshot: await store.revocationSnapshot(),
          };
          await closeStore(store);

          const reopened = await another();
          await reopened.migrate();
          expect({
            resource: await reopened.getResource(),
            keys: byName(await reopened.listAccessKeys()),
            signingKeys: await reopened.listSigningKeys(),
            identities: [await reopened.getIdentity(idOf(1)), await reopened.getIdentity(idOf(2))],
            events: await allEvents(reopened),
            snapshot: await reopened.revocationSnapshot(),
          }).toStrictEqual(before);
          // Idempotency state survives too.
          const retried = await reopened.createIdentity({
            id: idOf(3),
            customId: 'dave@example.test',
            createdAt: T0 + 8,
          });
          expect(retried.created).toBe(false);
          expect(retried.identity.id).toBe(idOf(1));
          const retriedKey = await reopened.createIdentity({ id: idOf(4), requestKey: 'req-dave', createdAt: T0 + 9 });
          expect(retriedKey.created).toBe(false);
          expect(retriedKey.identity.id).toBe(idOf(2));
          // And the feed continues after the last seq rather than starting over.
          await reopened.revokeIdentityTokens(idOf(1), T0 + 10);
          const events = await allEvents(reopened);
          expect(events).toHaveLength(before.events.length + 1);
          expectStrictlyIncreasing(events);
        });

        it('a write through one instance is visible through another at once (no stale cache)', async () => {
          const other = await another();
          await other.migrate();
          await store.createIdentity({ id: idOf(1), createdAt: T0 });
          expect(await other.getIdentity(idOf(1))).toStrictEqual(fresh(idOf(1)));
          await other.revokeIdentityTokens(idOf(1), T0 + 1);
          expect((await store.getIdentity(idOf(1)))?.epoch).toBe(1);
          expect(await store.listEvents(0, 10)).toStrictEqual(await other.listEvents(0, 10));
        });
      });
    });
  });
}
