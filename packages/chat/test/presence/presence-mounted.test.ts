// Presence mounted in `tessera serve` (same endpoint as the identity API and chat, as the chat mount does it): a
// token minted on the Tessera api-version with `presence` sets its state, a thread mate reads it, a stranger is
// answered as an unknown id, and a token without the scope is refused naming the capability. A room mate (a room
// made with the official RoomsClient on the server's connection string) reads it too.
import { RoomsClient } from '@azure/communication-rooms';
import { IdentityClient } from '@tessera/client';
import { TESSERA_API_VERSION } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/http/node-fetch.js';
import { type ChatTestServer, chatClient, errorOf, rawRequest, startChatTestServer } from '../e2e/helpers.js';

let t: ChatTestServer;
let tessera: IdentityClient;

beforeAll(async () => {
  t = await startChatTestServer();
  tessera = new IdentityClient(t.server.connectionString, {
    apiVersion: TESSERA_API_VERSION.version,
    fetch: createNodeFetch({ ca: t.ca }) as unknown as typeof fetch,
  });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const call = (token: string, method: string, path: string, body?: unknown) =>
  rawRequest({ url: t.url, ca: t.ca }, method, path, {
    token,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('presence in tessera serve', () => {
  it('set, read by a thread mate, hidden from a stranger, refused without the scope', async () => {
    const alice = await tessera.createUserAndToken(['chat', 'presence']);
    const bob = await tessera.createUserAndToken(['chat', 'presence']);
    const stranger = await tessera.createUserAndToken(['chat', 'presence']);
    const noScope = await tessera.createUserAndToken(['chat']);
    await chatClient(t.url, alice.token, t.ca).createChatThread(
      { topic: 'mounted presence' },
      { participants: [{ id: { communicationUserId: bob.user.id } }] },
    );

    const set = await call(alice.token, 'PUT', '/presence/me', { state: 'busy', note: 'in a meeting' });
    expect(set.status).toBe(200);

    const seen = await call(bob.token, 'GET', `/presence/${encodeURIComponent(alice.user.id)}`);
    expect(seen.status).toBe(200);
    expect(seen.json).toMatchObject({ state: 'busy', note: 'in a meeting' });

    const hidden = await call(stranger.token, 'GET', `/presence/${encodeURIComponent(alice.user.id)}`);
    expect(hidden.status).toBe(403);

    const refused = await call(noScope.token, 'PUT', '/presence/me', { state: 'away' });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(errorOf(refused.json))).toContain('presence.state.set');
  });

  it('a user who shares only a room reads it; not after the room is deleted', async () => {
    const alice = await tessera.createUserAndToken(['chat', 'presence']);
    const roomMate = await tessera.createUserAndToken(['voip', 'presence']);
    const rooms = new RoomsClient(t.server.connectionString, { tlsOptions: { ca: t.ca } });
    const room = await rooms.createRoom({
      participants: [
        { id: { communicationUserId: alice.user.id } },
        { id: { communicationUserId: roomMate.user.id }, role: 'Presenter' },
      ],
    });
    expect((await call(alice.token, 'PUT', '/presence/me', { state: 'doNotDisturb' })).status).toBe(200);
    const seen = await call(roomMate.token, 'GET', `/presence/${encodeURIComponent(alice.user.id)}`);
    expect(seen.status).toBe(200);
    expect(seen.json).toMatchObject({ state: 'doNotDisturb' });
    await rooms.deleteRoom(room.id);
    expect((await call(roomMate.token, 'GET', `/presence/${encodeURIComponent(alice.user.id)}`)).status).toBe(403);
  });
});
