import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoomIdTakenError, type RoomsStore } from '../../src/rooms/rooms-store.js';

/** A store on a fresh database, another instance on the same database, and a cleanup. */
export interface RoomsStoreHarness {
  readonly store: RoomsStore;
  open(): Promise<RoomsStore>;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const RES = '11111111-2222-4333-8444-555555555555';
const user = (n: number): string => `8:acs:${RES}_00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const roomOf = (n: number, createdAt = T0 + n) => ({
  id: `99${String(n).padStart(15, '0')}`,
  createdAt,
  validFrom: createdAt,
  validUntil: createdAt + 30 * DAY,
  pstnDialOutEnabled: n % 2 === 0,
});

/** The behaviour every {@link RoomsStore} must have (SQLite and PostgreSQL run it alike). */
export function describeRoomsStoreConformance(name: string, factory: () => Promise<RoomsStoreHarness>): void {
  describe(`RoomsStore conformance: ${name}`, () => {
    let harness: RoomsStoreHarness;
    let store: RoomsStore;
    const others: RoomsStore[] = [];

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
      await store.migrate();
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await harness.cleanup();
    });

    it('migrate is idempotent, also from a second instance', async () => {
      await store.migrate();
      const other = await harness.open();
      others.push(other);
      await other.migrate();
      await store.createRoom({ room: roomOf(1), participants: [] });
      expect((await other.getRoom(roomOf(1).id))?.id).toBe(roomOf(1).id);
    });

    it('creates a room with participants and reads both back', async () => {
      const result = await store.createRoom({
        room: roomOf(2),
        participants: [
          { rawId: user(1), role: 'Presenter' },
          { rawId: user(2), role: 'Attendee' },
        ],
      });
      expect(result).toStrictEqual({ room: roomOf(2), created: true, sameRequest: true });
      expect(await store.getRoom(roomOf(2).id)).toStrictEqual(roomOf(2));
      expect(await store.getParticipant(roomOf(2).id, user(1))).toStrictEqual({ rawId: user(1), role: 'Presenter' });
      expect(await store.getParticipant(roomOf(2).id, user(3))).toBeUndefined();
      expect(await store.countParticipants(roomOf(2).id)).toBe(2);
      expect(await store.getRoom('99000000000000404')).toBeUndefined();
    });

    it('a taken id throws RoomIdTakenError and stores nothing more', async () => {
      await store.createRoom({ room: roomOf(3), participants: [] });
      await expect(
        store.createRoom({
          room: { ...roomOf(3), validUntil: T0 + DAY },
          participants: [{ rawId: user(1), role: 'Consumer' }],
        }),
      ).rejects.toBeInstanceOf(RoomIdTakenError);
      expect(await store.getRoom(roomOf(3).id)).toStrictEqual(roomOf(3));
      expect(await store.countParticipants(roomOf(3).id)).toBe(0);
    });

    it('repeatability: the same request id returns the first room; another fingerprint is told apart', async () => {
      const r = { requestId: 'a1b2c3d4-0000-4000-8000-000000000001', fingerprint: 'f1' };
      const first = await store.createRoom({ room: roomOf(4), participants: [], repeatability: r });
      const again = await store.createRoom({ room: roomOf(5), participants: [], repeatability: r });
      expect(first.created).toBe(true);
      expect(again).toStrictEqual({ room: roomOf(4), created: false, sameRequest: true });
      const other = await store.createRoom({
        room: roomOf(6),
        participants: [],
        repeatability: { ...r, fingerprint: 'f2' },
      });
      expect(other).toStrictEqual({ room: roomOf(4), created: false, sameRequest: false });
      expect(await store.getRoom(roomOf(5).id)).toBeUndefined();
    });

    it('concurrent creates with one request id from two instances make one room', async () => {
      const other = await harness.open();
      others.push(other);
      const r = { requestId: 'a1b2c3d4-0000-4000-8000-000000000002', fingerprint: 'same' };
      const results = await Promise.all([
        store.createRoom({ room: roomOf(7), participants: [], repeatability: r }),
        other.createRoom({ room: roomOf(8), participants: [], repeatability: r }),
      ]);
      expect(results.filter((x) => x.created)).toHaveLength(1);
      expect(new Set(results.map((x) => x.room.id)).size).toBe(1);
    });

    it('lists live rooms newest first, page by page, without repeats or gaps', async () => {
      for (let n = 10; n < 17; n++) await store.createRoom({ room: roomOf(n, T0 + (n % 3) * 1000), participants: [] });
      await store.deleteRoom(roomOf(12).id, T0 + 5);
      const seen: string[] = [];
      let after: { createdAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.listRooms(2, after);
        seen.push(...page.map((r) => r.id));
        const last = page[page.length - 1];
        if (page.length < 2 || last === undefined) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      const expected = [10, 11, 13, 14, 15, 16]
        .map((n) => roomOf(n, T0 + (n % 3) * 1000))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map((r) => r.id);
      expect(seen).toStrictEqual(expected);
    });

    it('updates only the fields given; unknown or deleted rooms are not updated', async () => {
      await store.createRoom({ room: roomOf(20), participants: [] });
      const updated = await store.updateRoom(roomOf(20).id, { validUntil: T0 + 2 * DAY, pstnDialOutEnabled: true });
      expect(updated).toStrictEqual({ ...roomOf(20), validUntil: T0 + 2 * DAY, pstnDialOutEnabled: true });
      expect(await store.updateRoom('99000000000000404', { validFrom: T0 })).toBeUndefined();
      expect(await store.deleteRoom(roomOf(20).id, T0 + 9)).toBe(true);
      expect(await store.deleteRoom(roomOf(20).id, T0 + 10)).toBe(false);
      expect(await store.updateRoom(roomOf(20).id, { validFrom: T0 })).toBeUndefined();
      expect((await store.getRoom(roomOf(20).id))?.deletedAt).toBe(T0 + 9);
    });

    it('upserts keep roster order, change roles, remove (absent ones ignored), and respect the cap atomically', async () => {
      const id = roomOf(30).id;
      await store.createRoom({ room: roomOf(30), participants: [{ rawId: user(1), role: 'Attendee' }] });
      expect(
        await store.updateParticipants(
          id,
          [
            { rawId: user(2), role: 'Consumer' },
            { rawId: user(1), role: 'Presenter' },
            { rawId: user(3), role: 'Collaborator' },
          ],
          [user(9)],
          10,
        ),
      ).toBe('updated');
      expect(await store.listParticipants(id, 10)).toMatchObject([
        { rawId: user(1), role: 'Presenter' },
        { rawId: user(2), role: 'Consumer' },
        { rawId: user(3), role: 'Collaborator' },
      ]);
      const first = await store.listParticipants(id, 2);
      const rest = await store.listParticipants(id, 2, first[1]?.position);
      expect([...first, ...rest].map((p) => p.rawId)).toStrictEqual([user(1), user(2), user(3)]);
      expect(await store.updateParticipants(id, [], [user(2)], 10)).toBe('updated');
      expect(await store.getParticipant(id, user(2))).toBeUndefined();
      expect(
        await store.updateParticipants(
          id,
          [
            { rawId: user(4), role: 'Attendee' },
            { rawId: user(5), role: 'Attendee' },
          ],
          [],
          3,
        ),
      ).toBe('too-many');
      expect(await store.countParticipants(id)).toBe(2);
      expect(await store.getParticipant(id, user(4))).toBeUndefined();
      expect(await store.updateParticipants('99000000000000404', [{ rawId: user(1), role: 'Attendee' }], [], 10)).toBe(
        'not-found',
      );
    });

    it('deleting a room drops its roster', async () => {
      const id = roomOf(40).id;
      await store.createRoom({ room: roomOf(40), participants: [{ rawId: user(1), role: 'Attendee' }] });
      await store.deleteRoom(id, T0 + 1);
      expect(await store.countParticipants(id)).toBe(0);
      expect(await store.updateParticipants(id, [{ rawId: user(1), role: 'Attendee' }], [], 10)).toBe('not-found');
    });

    it("lists a user's live rooms newest first: deleted and expired rooms left out, not-yet-valid ones kept", async () => {
      const now = T0 + 10 * DAY;
      const member = [{ rawId: user(1), role: 'Attendee' as const }];
      await store.createRoom({ room: roomOf(60), participants: member });
      await store.createRoom({ room: roomOf(61), participants: [...member, { rawId: user(2), role: 'Presenter' }] });
      await store.createRoom({ room: roomOf(62), participants: member });
      await store.deleteRoom(roomOf(62).id, now);
      // Expired exactly now (validUntil is exclusive), and a room that opens tomorrow.
      await store.createRoom({ room: { ...roomOf(63), validFrom: T0, validUntil: now }, participants: member });
      await store.createRoom({
        room: { ...roomOf(64), validFrom: now + DAY, validUntil: now + 2 * DAY },
        participants: member,
      });
      await store.createRoom({ room: roomOf(65), participants: [{ rawId: user(2), role: 'Attendee' }] });
      // Joined later (by a roster update) but the room is older: order is the room's, not the membership's.
      await store.createRoom({ room: roomOf(59), participants: [] });
      await store.updateParticipants(roomOf(59).id, member, [], 10);

      expect(await store.listRoomsOf(user(1), now, 10)).toStrictEqual([64, 61, 60, 59].map((n) => roomOf(n).id));
      expect(await store.listRoomsOf(user(1), now, 2)).toStrictEqual([64, 61].map((n) => roomOf(n).id));
      expect(await store.listRoomsOf(user(2), now, 10)).toStrictEqual([65, 61].map((n) => roomOf(n).id));
      expect(await store.listRoomsOf(user(3), now, 10)).toStrictEqual([]);
      // Removed from the roster: no longer one of its rooms.
      await store.updateParticipants(roomOf(61).id, [], [user(1)], 10);
      expect(await store.listRoomsOf(user(1), now, 10)).toStrictEqual([64, 60, 59].map((n) => roomOf(n).id));
    });

    it('survives a reopen (durable)', async () => {
      await store.createRoom({ room: roomOf(50), participants: [{ rawId: user(7), role: 'Presenter' }] });
      const other = await harness.open();
      others.push(other);
      await other.migrate();
      expect(await other.getRoom(roomOf(50).id)).toStrictEqual(roomOf(50));
      expect(await other.getParticipant(roomOf(50).id, user(7))).toStrictEqual({ rawId: user(7), role: 'Presenter' });
    });
  });
}
