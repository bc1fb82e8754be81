// The cross-process bus on PostgreSQL: two buses (as two processes would have) on one database and schema, then
// two chat services on one PostgreSQL store with a subscriber on one and the sender on the other.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import type { ChatEvent } from '../../src/events/event-bus.js';
import { createPostgresEventBus } from '../../src/events/postgres-event-bus.js';
import { startChatService } from '../../src/service/start-chat-service.js';
import { type EventsFixture, startEventsFixture } from './events-fixture.js';
import { openStream } from './sse-reader.js';

const DATABASE_URL = testPostgresUrl();
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const schemas: string[] = [];
const newSchema = () => {
  const schema = `tessera_chat_ev_${process.pid}_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  return schema;
};
afterAll(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

const typing = (recipients: string[], displayName = 'x'): ChatEvent => ({
  type: 'typingIndicatorReceived',
  threadId: '19:t@thread.v2',
  recipients,
  occurredOn: new Date().toISOString(),
  sender: { rawId: 's', displayName },
});

function collect(bus: { subscribe(id: string, l: (e: ChatEvent) => void): () => void }, id: string) {
  const got: ChatEvent[] = [];
  const waiters = new Set<() => void>();
  bus.subscribe(id, (e) => {
    got.push(e);
    for (const w of [...waiters]) w();
  });
  return {
    got,
    until: (n: number) =>
      new Promise<ChatEvent[]>((resolve) => {
        const check = () => {
          if (got.length >= n) {
            waiters.delete(check);
            resolve(got);
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

describe('createPostgresEventBus', () => {
  it('delivers across buses once each, inline and by reference (> 8,000 bytes), in publish order', async () => {
    const schema = newSchema();
    const a = createPostgresEventBus({ connectionString: DATABASE_URL, schema });
    const b = createPostgresEventBus({ connectionString: DATABASE_URL, schema });
    const other = createPostgresEventBus({ connectionString: DATABASE_URL, schema: newSchema() });
    try {
      await Promise.all([a.ready(), b.ready(), other.ready()]);
      const onA = collect(a, 'u1');
      const onB = collect(b, 'u1');
      const otherSchema = collect(other, 'u1');
      const big = 'x'.repeat(20_000);
      await a.publish(typing(['u1'], 'small-1'));
      await a.publish(typing(['u1', 'u2'], big));
      await a.publish(typing(['u1'], 'small-2'));
      await a.publish(typing(['u2'], 'not-for-u1'));
      await onB.until(3);
      await a.publish(typing(['u1'], 'last'));
      await onB.until(4);
      const names = (list: ChatEvent[]) =>
        list.map((e) => (e.type === 'typingIndicatorReceived' ? e.sender.displayName?.slice(0, 10) : e.type));
      expect(names(onB.got)).toEqual(['small-1', 'xxxxxxxxxx', 'small-2', 'last']);
      // The publisher's own listeners hear it once (directly, not again from the notification).
      expect(names(onA.got)).toEqual(['small-1', 'xxxxxxxxxx', 'small-2', 'last']);
      expect(onB.got[1]).toEqual(onA.got[1]);
      // A bus on another schema hears nothing.
      expect(otherSchema.got).toEqual([]);
      const refs = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".tessera_chat_event_refs`);
      expect(refs.rows[0]?.n).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('buses starting together on a fresh schema all get ready (the CREATE race of a flaky CI run)', async () => {
    for (let round = 0; round < 4; round++) {
      const schema = newSchema();
      const buses = Array.from({ length: 6 }, () => createPostgresEventBus({ connectionString: DATABASE_URL, schema }));
      try {
        const results = await Promise.allSettled(buses.map((bus) => bus.ready()));
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      } finally {
        await Promise.all(buses.map((bus) => bus.close()));
      }
    }
  });

  it('ready() rejects with ERR_CHAT_STORE_UNAVAILABLE when PostgreSQL cannot be reached, without the URL', async () => {
    const bus = createPostgresEventBus({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/x', pingMs: 500 });
    try {
      const error = await bus.ready().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'ERR_CHAT_STORE_UNAVAILABLE' });
      expect(String((error as Error).message)).not.toContain('secret');
    } finally {
      await bus.close();
    }
  });

  it('refuses a schema that is not a plain identifier', () => {
    expect(() => createPostgresEventBus({ connectionString: DATABASE_URL, schema: 'a"; DROP' })).toThrow(TypeError);
  });
});

describe('two chat services on one PostgreSQL store', () => {
  let f: EventsFixture | undefined;
  afterAll(async () => {
    await f?.close();
  });

  it('a subscriber on service B hears a message sent through service A', async () => {
    const schema = newSchema();
    const store = { kind: 'postgres', url: DATABASE_URL, schema } as const;
    f = await startEventsFixture({ store });
    const fx = f;
    const b = await startChatService({
      identityEndpoint: fx.identityServer.url,
      connectionString: fx.identityServer.verifierConnectionString,
      store,
      port: 0,
    });
    try {
      const alice = await fx.identity.createUserAndToken(['chat']);
      const bob = await fx.identity.createUserAndToken(['chat']);
      const stream = await openStream(new URL('/chat/events', b.url), { authorization: `Bearer ${bob.token}` });
      expect(stream.status).toBe(200);
      const created = await fx.call(alice.token, 'POST', '/chat/threads', {
        topic: 'across',
        participants: [{ communicationIdentifier: { communicationUser: { id: bob.user.communicationUserId } } }],
      });
      const threadId = (created.json?.chatThread as { id: string } | undefined)?.id ?? '';
      await fx.call(alice.token, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/messages`, {
        content: 'y'.repeat(10_000),
      });
      await stream.until((list) => list.some((e) => e.event === 'chatMessageReceived'));
      expect(stream.events.map((e) => e.event)).toEqual(['chatThreadCreated', 'chatMessageReceived']);
      const data = JSON.parse(stream.events[1]?.data ?? '{}') as { message: { content: string } };
      expect(data.message.content).toHaveLength(10_000);
      stream.close();
    } finally {
      await b.close();
    }
  });
});
