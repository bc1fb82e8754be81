// The Rooms API end to end: a real identity server (`tessera serve`, its own process), the chat plugin with rooms
// in this process (as `tessera chat-service` runs it: tokens verified offline, revocation feed followed), the
// official @azure/communication-rooms RoomsClient unchanged, tokens from the official identity SDK, on SQLite and
// on PostgreSQL; then every VoIP cell of the capability table through the call-decision routes.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommunicationUserIdentifier } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { type RoomParticipant, RoomsClient } from '@azure/communication-rooms';
import { CAPABILITY_TABLE, ROOM_OPERATIONS, ROOM_ROLE_TABLE, ROOM_ROLES, type RoomRole } from '@tessera/core';
import { createNodeVerifier } from '@tessera/verifier/node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresRoomsStore } from '../../src/rooms/postgres-rooms-store.js';
import type { RoomsStore } from '../../src/rooms/rooms-store.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';
import { type IdentityServer, type Plane, signedFetch, startIdentityServer, startPlane } from './rooms-helpers.js';

const DAY = 86_400_000;
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const API = 'api-version=2025-03-13';

let identity: IdentityServer;
let identityClient: CommunicationIdentityClient;
let verifier: ReturnType<typeof createNodeVerifier>;

beforeAll(async () => {
  identity = await startIdentityServer();
  identityClient = new CommunicationIdentityClient(identity.connectionString, { allowInsecureConnection: true });
  verifier = createNodeVerifier({ connectionString: identity.verifierConnectionString });
  await verifier.ready();
}, 60_000);

afterAll(async () => {
  await verifier?.close();
  await identity?.stop();
});

async function newUser(): Promise<CommunicationUserIdentifier> {
  return identityClient.createUser();
}

/** The RestError of a rejected SDK call. */
async function restError(promise: Promise<unknown>): Promise<{ statusCode: number; code: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { statusCode: number; code: string; details: unknown };
    return { statusCode: e.statusCode, code: e.code, details: e.details };
  }
  throw new Error('expected the call to fail');
}

const stores: Array<[string, () => Promise<{ store: RoomsStore; cleanup: () => Promise<void> }>]> = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-e2e-'));
      const store = createSqliteRoomsStore({ path: join(dir, 'rooms.db') });
      return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
      const schema = `tessera_rooms_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE SCHEMA "${schema}"`);
      const store = createPostgresRoomsStore({ connectionString: DATABASE_URL, schema, maxConnections: 4 });
      return {
        store,
        cleanup: async () => {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        },
      };
    },
  ],
];

describe.each(stores)('Rooms over the wire on %s', (_name, makeStore) => {
  let store: RoomsStore;
  let cleanup: () => Promise<void>;
  let plane: Plane;
  let client: RoomsClient;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-plane-'));

  beforeAll(async () => {
    ({ store, cleanup } = await makeStore());
    await store.migrate();
    plane = await startPlane({ identity, verifier, store, dir });
    client = plane.client;
  });

  afterAll(async () => {
    await plane?.app.close();
    await store?.close();
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('RoomsClient: create with every field, get, update, delete; the room is gone afterwards', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const validFrom = new Date(Date.now() + 60_000);
    const validUntil = new Date(validFrom.getTime() + 7 * DAY);
    const created = await client.createRoom({
      validFrom,
      validUntil,
      pstnDialOutEnabled: true,
      participants: [
        { id: alice, role: 'Presenter' },
        { id: bob, role: 'Consumer' },
      ],
    });
    expect(created.id).toMatch(/^99\d{15}$/);
    expect(created.validFrom.getTime()).toBe(validFrom.getTime());
    expect(created.validUntil.getTime()).toBe(validUntil.getTime());
    expect(created.pstnDialOutEnabled).toBe(true);
    expect(Math.abs(created.createdOn.getTime() - Date.now())).toBeLessThan(60_000);

    const got = await client.getRoom(created.id);
    expect(got).toStrictEqual(created);

    const later = new Date(validUntil.getTime() + DAY);
    const updated = await client.updateRoom(created.id, { validUntil: later, pstnDialOutEnabled: false });
    expect(updated.validFrom.getTime()).toBe(validFrom.getTime());
    expect(updated.validUntil.getTime()).toBe(later.getTime());
    expect(updated.pstnDialOutEnabled).toBe(false);

    await client.deleteRoom(created.id);
    expect(await restError(client.getRoom(created.id))).toMatchObject({ statusCode: 404, code: 'NotFound' });
    expect(await restError(client.updateRoom(created.id, { pstnDialOutEnabled: true }))).toMatchObject({
      statusCode: 404,
    });
    // Deleting again answers 204, as the service does.
    await client.deleteRoom(created.id);
  });

  it('defaults: validFrom now, validUntil 180 days later, no PSTN dial-out, no participants', async () => {
    const before = Date.now();
    const room = await client.createRoom();
    expect(room.validFrom.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(room.validFrom.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(room.validUntil.getTime() - room.validFrom.getTime()).toBe(180 * DAY);
    expect(room.pstnDialOutEnabled).toBe(false);
    const participants: RoomParticipant[] = [];
    for await (const p of client.listParticipants(room.id)) participants.push(p);
    expect(participants).toStrictEqual([]);
  });

  it('participants: add, change role, list page by page (nextLink), remove with null', async () => {
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => newUser()));
    const room = await client.createRoom({ participants: [{ id: users[0] as CommunicationUserIdentifier }] });
    await client.addOrUpdateParticipants(room.id, [
      { id: users[1] as CommunicationUserIdentifier, role: 'Collaborator' },
      { id: users[2] as CommunicationUserIdentifier, role: 'Consumer' },
      { id: users[3] as CommunicationUserIdentifier },
      { id: users[4] as CommunicationUserIdentifier, role: 'Presenter' },
      { id: users[0] as CommunicationUserIdentifier, role: 'Presenter' },
    ]);
    const pages: string[][] = [];
    for await (const page of client.listParticipants(room.id).byPage()) {
      pages.push(page.map((p) => `${(p.id as CommunicationUserIdentifier).communicationUserId}=${p.role}`));
    }
    expect(pages.map((p) => p.length)).toStrictEqual([3, 2]);
    expect(pages.flat()).toStrictEqual([
      `${users[0]?.communicationUserId}=Presenter`,
      `${users[1]?.communicationUserId}=Collaborator`,
      `${users[2]?.communicationUserId}=Consumer`,
      `${users[3]?.communicationUserId}=Attendee`,
      `${users[4]?.communicationUserId}=Presenter`,
    ]);
    await client.removeParticipants(room.id, [users[1] as CommunicationUserIdentifier, await newUser()]);
    const left: string[] = [];
    for await (const p of client.listParticipants(room.id))
      left.push((p.id as CommunicationUserIdentifier).communicationUserId);
    expect(left).toHaveLength(4);
    expect(left).not.toContain(users[1]?.communicationUserId);
  });

  it('listRooms pages through every room with nextLink, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await client.createRoom()).id);
    const listed: string[] = [];
    let pageCount = 0;
    for await (const page of client.listRooms().byPage()) {
      pageCount++;
      expect(page.length).toBeLessThanOrEqual(3);
      listed.push(...page.map((r) => r.id));
    }
    expect(pageCount).toBeGreaterThanOrEqual(2);
    expect(new Set(listed).size).toBe(listed.length);
    const positions = ids.map((id) => listed.indexOf(id));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => b - a)).toStrictEqual(positions);
  });

  it('validation answers 400 with the Rooms service codes, messages and targets, never a 500', async () => {
    const now = Date.now();
    const tooLong = await restError(
      client.createRoom({ validFrom: new Date(now), validUntil: new Date(now + 181 * DAY) }),
    );
    expect(tooLong).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(tooLong.details).toMatchObject({
      error: {
        details: [
          {
            code: 'BadArgument',
            message: 'The time range is incorrect, or larger than 180 days.',
            target: 'ValidUntil',
          },
        ],
      },
    });
    const past = await restError(client.createRoom({ validUntil: new Date(now - 1000) }));
    expect(past.details).toMatchObject({
      error: { details: [{ message: 'The time range end is in the past.', target: 'ValidUntil' }] },
    });
    const farFrom = await restError(client.createRoom({ validFrom: new Date(now + 200 * DAY) }));
    expect(farFrom.details).toMatchObject({
      error: { details: [{ message: 'Value is incorrect or more than 180 days in the future.', target: 'ValidFrom' }] },
    });
    const badId = await restError(client.createRoom({ participants: [{ id: { communicationUserId: 'wrong_mri' } }] }));
    expect(badId).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(badId.details).toMatchObject({ error: { message: 'Invalid format for communication identifier.' } });
    expect(await restError(client.getRoom('123'))).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(await restError(client.getRoom('99000000000000404'))).toMatchObject({ statusCode: 404, code: 'NotFound' });

    const room = await client.createRoom();
    const url = `${plane.endpoint}rooms/${room.id}/participants?${API}`;
    const user = (await newUser()).communicationUserId;
    const kafka = await signedFetch(identity.accessKey, 'PATCH', url, { participants: { [user]: { role: 'Kafka' } } });
    expect(kafka.status).toBe(400);
    expect(kafka.json).toMatchObject({
      error: { code: 'BadRequest', details: [{ code: 'BadArgument', target: `$.participants.${user}.role` }] },
    });
    const wrong = await signedFetch(identity.accessKey, 'PATCH', url, { participants: { wrong_mri: null } });
    expect(wrong.json).toMatchObject({ error: { code: 'BadRequest', message: 'Invalid value for the Participants.' } });
    for (const body of [
      '{',
      '[]',
      '"x"',
      JSON.stringify({ participants: [] }),
      JSON.stringify({ participants: { [user]: 5 } }),
    ]) {
      const r = await signedFetch(identity.accessKey, 'PATCH', url, body);
      expect(r.status, body).toBe(400);
    }
    for (const body of [
      { validFrom: 'tomorrow' },
      { validUntil: 7 },
      { pstnDialOutEnabled: 'yes' },
      { participants: 'x' },
    ]) {
      const r = await signedFetch(identity.accessKey, 'POST', `${plane.endpoint}rooms?${API}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.headers.get('x-ms-error-code')).toBe('BadRequest');
    }
    const tooMany: Record<string, { role: string }> = {};
    for (let i = 0; i < 21; i++) tooMany[(await newUser()).communicationUserId] = { role: 'Attendee' };
    const big = await signedFetch(identity.accessKey, 'PATCH', url, { participants: tooMany });
    expect(big.status).toBe(400);
    expect(big.json).toMatchObject({ error: { innererror: { code: 'ERR_ROOMS_TOO_MANY_PARTICIPANTS' } } });
    const noVersion = await signedFetch(identity.accessKey, 'GET', `${plane.endpoint}rooms/${room.id}`);
    expect(noVersion.status).toBe(400);
    expect(noVersion.json).toMatchObject({ error: { code: 'UnsupportedApiVersion' } });
    const xml = await fetch(`${plane.endpoint}rooms?${API}`, {
      method: 'POST',
      body: '<a/>',
      headers: { 'content-type': 'text/xml' },
    });
    expect(xml.status).toBe(401); // authentication first: an unsigned request learns nothing
  });

  it('Repeatability-Request-ID: a retry returns the same room; another body with the id answers 409', async () => {
    const requestId = randomUUID();
    const headers = { 'repeatability-request-id': requestId, 'repeatability-first-sent': new Date().toUTCString() };
    const body = { pstnDialOutEnabled: true };
    const first = await signedFetch(identity.accessKey, 'POST', `${plane.endpoint}rooms?${API}`, body, headers);
    const again = await signedFetch(identity.accessKey, 'POST', `${plane.endpoint}rooms?${API}`, body, headers);
    expect(first.status).toBe(201);
    expect(first.headers.get('repeatability-result')).toBe('accepted');
    expect(again.status).toBe(201);
    expect(again.json).toStrictEqual(first.json);
    const other = await signedFetch(
      identity.accessKey,
      'POST',
      `${plane.endpoint}rooms?${API}`,
      { pstnDialOutEnabled: false },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.headers.get('repeatability-result')).toBe('rejected');
    const noDate = await signedFetch(identity.accessKey, 'POST', `${plane.endpoint}rooms?${API}`, body, {
      'repeatability-request-id': randomUUID(),
    });
    expect(noDate.status).toBe(400);
    const notUuid = await signedFetch(identity.accessKey, 'POST', `${plane.endpoint}rooms?${API}`, body, {
      'repeatability-request-id': 'abc',
      'repeatability-first-sent': new Date().toUTCString(),
    });
    expect(notUuid.status).toBe(400);
  });

  it('HMAC: a wrong key, a missing signature or a tampered body answer 401 Denied', async () => {
    const wrongKey = new RoomsClient(`endpoint=${plane.endpoint};accesskey=${randomBytes(32).toString('base64')}`, {
      allowInsecureConnection: true,
    });
    expect(await restError(wrongKey.createRoom())).toMatchObject({ statusCode: 401, code: 'Denied' });
    const bare = await fetch(`${plane.endpoint}rooms?${API}`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { innererror: { code: string } } }).error.innererror.code).toBe(
      'ERR_AUTH_MISSING',
    );
    const bearer = await fetch(`${plane.endpoint}rooms?${API}`, { headers: { authorization: 'Bearer abc' } });
    expect(bearer.status).toBe(401);
  });

  describe('call decisions: every VoIP cell of the capability table', () => {
    const tokens: Partial<Record<'voip' | 'voip.join' | 'chat', { token: string; user: string }>> = {};
    const roleUsers = new Map<RoomRole | 'none', Record<'voip' | 'voip.join', { token: string; user: string }>>();
    let roomId = '';
    let pstnRoomId = '';

    beforeAll(async () => {
      for (const scope of ['voip', 'voip.join', 'chat'] as const) {
        const r = await identityClient.createUserAndToken([scope]);
        tokens[scope] = { token: r.token, user: r.user.communicationUserId };
      }
      for (const role of [...ROOM_ROLES, 'none'] as const) {
        const voip = await identityClient.createUserAndToken(['voip']);
        const join = await identityClient.createUserAndToken(['voip.join']);
        roleUsers.set(role, {
          voip: { token: voip.token, user: voip.user.communicationUserId },
          'voip.join': { token: join.token, user: join.user.communicationUserId },
        });
      }
      const participants = ROOM_ROLES.flatMap((role) => {
        const u = roleUsers.get(role);
        return u === undefined
          ? []
          : [
              { id: { communicationUserId: u.voip.user }, role },
              { id: { communicationUserId: u['voip.join'].user }, role },
            ];
      });
      roomId = (await client.createRoom({ participants })).id;
      pstnRoomId = (await client.createRoom({ participants, pstnDialOutEnabled: true })).id;
    });

    async function decide(path: string, token: string, action: string) {
      const r = await signedFetch(identity.accessKey, 'POST', `${plane.endpoint}${path}`, { token, action });
      expect(r.status).toBe(200);
      return r.json as { allowed: boolean; reason?: string; code?: string; capability: string; role?: string };
    }

    it('outside rooms: start, join, in-call operations, per scope', async () => {
      const rows = { start: 'voip.call.start', join: 'voip.call.join', inCall: 'voip.call.inCallOperation' } as const;
      for (const [action, capability] of Object.entries(rows)) {
        const row = CAPABILITY_TABLE.find((r) => r.capability === capability);
        for (const scope of ['voip', 'voip.join', 'chat'] as const) {
          const answer = await decide('calls/decisions:evaluate', tokens[scope]?.token ?? '', action);
          expect(answer.capability).toBe(capability);
          expect(answer.allowed, `${capability} with ${scope}`).toBe(row?.cells[scope] === 'Y');
          if (!answer.allowed) expect(answer).toMatchObject({ reason: 'scope', code: 'ERR_CAPABILITY_DENIED' });
        }
      }
    });

    it('in a room: start and join need an invitation (any role), for voip and voip.join alike', async () => {
      for (const [action, capability] of [
        ['start', 'voip.call.startInRoom'],
        ['join', 'voip.call.joinInRoom'],
      ] as const) {
        const row = CAPABILITY_TABLE.find((r) => r.capability === capability);
        for (const role of [...ROOM_ROLES, 'none'] as const) {
          for (const scope of ['voip', 'voip.join'] as const) {
            const who = roleUsers.get(role)?.[scope];
            const answer = await decide(`rooms/${roomId}/decisions:evaluate`, who?.token ?? '', action);
            const expected = row?.cells[scope] !== 'N' && role !== 'none';
            expect(answer.allowed, `${action} as ${role} with ${scope}`).toBe(expected);
            if (role === 'none') expect(answer).toMatchObject({ reason: 'not-invited', code: 'ERR_CAPABILITY_DENIED' });
            else expect(answer.role).toBe(role);
          }
        }
        const chatOnly = await decide(`rooms/${roomId}/decisions:evaluate`, tokens.chat?.token ?? '', action);
        expect(chatOnly).toMatchObject({ allowed: false, reason: 'scope' });
      }
    });

    it('in a room: every in-call operation by role (Rooms roles table), both scopes', async () => {
      for (const row of ROOM_ROLE_TABLE) {
        for (const role of [...ROOM_ROLES, 'none'] as const) {
          for (const scope of ['voip', 'voip.join'] as const) {
            const who = roleUsers.get(role)?.[scope];
            for (const [room, pstn] of [
              [roomId, false],
              [pstnRoomId, true],
            ] as const) {
              const answer = await decide(`rooms/${room}/decisions:evaluate`, who?.token ?? '', row.operation);
              const byRole = role !== 'none' && row.roles[role];
              const expected = byRole && (row.operation !== 'dialOutPstn' || pstn);
              expect(answer.allowed, `${row.operation} as ${role} with ${scope}, pstn ${pstn}`).toBe(expected);
              if (!expected) {
                const reason = role === 'none' ? 'not-invited' : byRole ? 'pstn-dial-out-disabled' : 'room-role';
                expect(answer.reason).toBe(reason);
              }
            }
          }
        }
      }
      expect(ROOM_OPERATIONS.length).toBe(ROOM_ROLE_TABLE.length);
    });

    it('the room must be open: before validFrom and after validUntil the answer is no', async () => {
      const invited = roleUsers.get('Presenter')?.voip;
      const future = await client.createRoom({
        validFrom: new Date(Date.now() + DAY),
        participants: [{ id: { communicationUserId: invited?.user ?? '' }, role: 'Presenter' }],
      });
      expect(await decide(`rooms/${future.id}/decisions:evaluate`, invited?.token ?? '', 'join')).toMatchObject({
        allowed: false,
        reason: 'room-not-open',
        code: 'ERR_ROOM_NOT_OPEN',
      });
      // The same store seen 181 days later: the room (180 days by default) has closed.
      const later = await startPlane({ identity, verifier, store, dir, skewMs: 181 * DAY });
      try {
        // Signed at the shifted clock too: the plane's clock also judges x-ms-date.
        const r = await signedFetch(
          identity.accessKey,
          'POST',
          `${later.endpoint}rooms/${roomId}/decisions:evaluate`,
          { token: invited?.token, action: 'join' },
          {},
          Date.now() + 181 * DAY,
        );
        expect(r.json).toMatchObject({ allowed: false, reason: 'room-closed', code: 'ERR_ROOM_CLOSED' });
      } finally {
        await later.app.close();
      }
    });

    it('a forged or revoked user token is a refusal naming the token error; bad input is a 400; unknown room 404', async () => {
      const forged = await decide(`rooms/${roomId}/decisions:evaluate`, 'not.a.token', 'join');
      expect(forged).toMatchObject({ allowed: false, reason: 'token', code: 'ERR_TOKEN_MALFORMED' });
      const victim = await identityClient.createUserAndToken(['voip']);
      await client.addOrUpdateParticipants(roomId, [{ id: victim.user, role: 'Attendee' }]);
      expect((await decide(`rooms/${roomId}/decisions:evaluate`, victim.token, 'join')).allowed).toBe(true);
      await identityClient.revokeTokens(victim.user);
      let answer = await decide(`rooms/${roomId}/decisions:evaluate`, victim.token, 'join');
      for (let i = 0; i < 40 && answer.allowed; i++) {
        await new Promise((r) => setTimeout(r, 50));
        answer = await decide(`rooms/${roomId}/decisions:evaluate`, victim.token, 'join');
      }
      expect(answer).toMatchObject({ allowed: false, reason: 'token', code: 'ERR_TOKEN_REVOKED' });

      const url = `${plane.endpoint}rooms/${roomId}/decisions:evaluate`;
      for (const body of [{}, { token: 'x' }, { token: 'x', action: 'fly' }, { token: 5, action: 'join' }]) {
        const r = await signedFetch(identity.accessKey, 'POST', url, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
      }
      const missing = await signedFetch(
        identity.accessKey,
        'POST',
        `${plane.endpoint}rooms/99000000000000404/decisions:evaluate`,
        {
          token: 'x',
          action: 'join',
        },
      );
      expect(missing.status).toBe(404);
      const unsigned = await fetch(url, { method: 'POST', body: JSON.stringify({ token: 'x', action: 'join' }) });
      expect(unsigned.status).toBe(401);
    });
  });
});
