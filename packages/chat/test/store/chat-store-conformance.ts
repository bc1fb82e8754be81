import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatParticipantRecord, ChatStore, CreateThreadInput } from '../../src/store/chat-store.js';

/** A store on a fresh database, a way to open a second instance on it (another process), and a cleanup. */
export interface ChatStoreHarness {
  readonly store: ChatStore;
  open(): Promise<ChatStore>;
  cleanup(): Promise<void>;
}

/** Fixed times: every timestamp in the suite is explicit. */
const T0 = Date.UTC(2025, 0, 1);
const RESOURCE = '11111111-2222-4333-8444-555555555555';

function user(n: number): string {
  return `8:acs:${RESOURCE}_00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

let threadCounter = 0;
function threadInput(creator: string, others: ChatParticipantRecord[] = [], at = T0): CreateThreadInput {
  threadCounter++;
  const id = `19:${threadCounter.toString(16).padStart(32, '0')}@thread.v2`;
  const participants = [{ rawId: creator, shareHistoryTime: 0 }, ...others];
  return {
    thread: {
      id,
      resourceId: RESOURCE,
      topic: `topic ${threadCounter}`,
      createdBy: creator,
      createdOn: at,
      metadata: {},
    },
    participants,
    systemMessages: [
      { type: 'participantAdded', participants, initiatorRawId: creator },
      { type: 'topicUpdated', topic: `topic ${threadCounter}`, initiatorRawId: creator },
    ],
  };
}

/** The behaviour every {@link ChatStore} must have (SQLite and PostgreSQL run it). */
export function describeChatStoreConformance(name: string, factory: () => Promise<ChatStoreHarness>): void {
  describe(`ChatStore conformance: ${name}`, () => {
    let h: ChatStoreHarness;
    let store: ChatStore;
    const extra: ChatStore[] = [];

    beforeEach(async () => {
      h = await factory();
      store = h.store;
      await store.migrate();
    });
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await store.close();
      await h.cleanup();
    });

    it('migrate is idempotent', async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.getThread('19:none@thread.v2')).toBeUndefined();
    });

    it('creates a thread with its participants and system messages (participantAdded, then topicUpdated)', async () => {
      const input = threadInput(user(1), [{ rawId: user(2), displayName: 'Bob', shareHistoryTime: 0 }]);
      const r = await store.createThread(input);
      expect(r.created).toBe(true);
      expect(r.thread).toMatchObject({
        id: input.thread.id,
        topic: input.thread.topic,
        createdBy: user(1),
        createdOn: T0,
      });
      expect(r.thread.deletedOn).toBeUndefined();
      const participants = await store.listParticipants(input.thread.id, 0, 10);
      expect(participants.map((p) => p.rawId)).toEqual([user(1), user(2)]);
      expect(participants[1]?.displayName).toBe('Bob');
      const messages = await store.listMessages(input.thread.id, { notBefore: 0, limit: 10 });
      expect(messages.map((m) => [m.type, m.sequenceId])).toEqual([
        ['topicUpdated', 2],
        ['participantAdded', 1],
      ]);
      expect(messages[1]?.participants?.map((p) => p.rawId)).toEqual([user(1), user(2)]);
      expect(Number(messages[0]?.id)).toBeGreaterThan(Number(messages[1]?.id));
      expect(messages[1]?.id).toBe(String(T0));
    });

    it('repeatability: the same request id returns the first thread; another body is told apart', async () => {
      const a = { ...threadInput(user(1)), repeatability: { requestId: 'req-1', fingerprint: 'f1' } };
      const first = await store.createThread(a);
      const again = await store.createThread({
        ...threadInput(user(1)),
        repeatability: { requestId: 'req-1', fingerprint: 'f1' },
      });
      expect(again).toMatchObject({ created: false, sameRequest: true });
      expect(again.thread.id).toBe(first.thread.id);
      const other = await store.createThread({
        ...threadInput(user(1)),
        repeatability: { requestId: 'req-1', fingerprint: 'f2' },
      });
      expect(other).toMatchObject({ created: false, sameRequest: false });
      // Another creator may use the same id.
      const b = await store.createThread({
        ...threadInput(user(2)),
        repeatability: { requestId: 'req-1', fingerprint: 'f1' },
      });
      expect(b.created).toBe(true);
      expect(await store.listThreads(user(1), { limit: 10 })).toHaveLength(1);
    });

    it('message ids are millisecond-based and strictly increasing, sequence ids count up', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const m = await store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: `m${i}` }, T0 + 1000);
        ids.push(Number(m.id));
        expect(m.sequenceId).toBe(3 + i);
        expect(m.version).toBe(m.id);
      }
      expect(ids[0]).toBe(T0 + 1000);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(5);
      // A clock going backwards still yields a larger id.
      const late = await store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: 'x' }, T0);
      expect(Number(late.id)).toBeGreaterThan(ids[4] ?? 0);
      expect((await store.getThread(t.id))?.lastMessageReceivedOn).toBe(T0 + 1000);
    });

    it('lists messages newest first, pages with beforeId, and filters by notBefore', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      for (let i = 0; i < 6; i++) {
        await store.appendMessage(
          t.id,
          { type: 'text', senderRawId: user(1), content: `m${i}` },
          T0 + 10_000 * (i + 1),
        );
      }
      const page1 = await store.listMessages(t.id, { notBefore: 0, limit: 3 });
      expect(page1.map((m) => m.content)).toEqual(['m5', 'm4', 'm3']);
      const page2 = await store.listMessages(t.id, { notBefore: 0, limit: 3, beforeId: page1[2]?.id });
      expect(page2.map((m) => m.content)).toEqual(['m2', 'm1', 'm0']);
      const recent = await store.listMessages(t.id, { notBefore: T0 + 45_000, limit: 10 });
      expect(recent.map((m) => m.content)).toEqual(['m5', 'm4']);
    });

    it('updates and deletes messages (editedOn, deletedOn, version, metadata merge)', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      const m = await store.appendMessage(
        t.id,
        {
          type: 'html',
          senderRawId: user(1),
          senderDisplayName: 'A',
          content: '<b>x</b>',
          metadata: { a: '1', b: '2' },
        },
        T0 + 5000,
      );
      const edited = await store.updateMessage(t.id, m.id, { content: 'y', metadata: { a: null, c: '3' } }, T0 + 6000);
      expect(edited).toMatchObject({ content: 'y', editedOn: T0 + 6000, metadata: { b: '2', c: '3' }, type: 'html' });
      expect(Number(edited?.version)).toBeGreaterThan(Number(m.version));
      const deleted = await store.deleteMessage(t.id, m.id, T0 + 7000);
      expect(deleted?.deletedOn).toBe(T0 + 7000);
      expect(await store.updateMessage(t.id, m.id, { content: 'z' }, T0 + 8000)).toBeUndefined();
      const again = await store.deleteMessage(t.id, m.id, T0 + 9000);
      expect(again?.deletedOn).toBe(T0 + 7000);
      expect(await store.deleteMessage(t.id, '999', T0)).toBeUndefined();
      expect(await store.getMessage(t.id, '999')).toBeUndefined();
    });

    it('adds (upserts) and removes participants with their system messages', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      const added = [{ rawId: user(2), displayName: 'B', shareHistoryTime: T0 + 1 }];
      await store.addParticipants(
        t.id,
        added,
        { type: 'participantAdded', participants: added, initiatorRawId: user(1) },
        T0 + 100,
      );
      const re = [{ rawId: user(2), displayName: 'B2', shareHistoryTime: 0 }];
      await store.addParticipants(
        t.id,
        re,
        { type: 'participantAdded', participants: re, initiatorRawId: user(1) },
        T0 + 200,
      );
      expect(await store.getParticipant(t.id, user(2))).toEqual({
        rawId: user(2),
        displayName: 'B2',
        shareHistoryTime: 0,
      });
      expect((await store.listParticipants(t.id, 0, 10)).map((p) => p.rawId)).toEqual([user(1), user(2)]);
      expect((await store.listParticipants(t.id, 1, 10)).map((p) => p.rawId)).toEqual([user(2)]);
      expect(await store.listThreads(user(2), { limit: 10 })).toHaveLength(1);
      const removed = await store.removeParticipant(
        t.id,
        user(2),
        { type: 'participantRemoved', participants: re, initiatorRawId: user(1) },
        T0 + 300,
      );
      expect(removed).toBe(true);
      expect(
        await store.removeParticipant(t.id, user(2), { type: 'participantRemoved', participants: re }, T0 + 400),
      ).toBe(false);
      expect(await store.getParticipant(t.id, user(2))).toBeUndefined();
      expect(await store.listThreads(user(2), { limit: 10 })).toHaveLength(0);
      const types = (await store.listMessages(t.id, { notBefore: 0, limit: 10 })).map((m) => m.type);
      expect(types).toEqual([
        'participantRemoved',
        'participantAdded',
        'participantAdded',
        'topicUpdated',
        'participantAdded',
      ]);
    });

    it('updates the topic with a topicUpdated message, merges metadata, deletes threads', async () => {
      const input = threadInput(user(1));
      const t = (await store.createThread({ ...input, thread: { ...input.thread, metadata: { a: '1' } } })).thread;
      const u = await store.updateThread(
        t.id,
        {
          topic: 'new',
          metadata: { b: '2' },
          retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 30 },
        },
        { type: 'topicUpdated', topic: 'new', initiatorRawId: user(1) },
        T0 + 50,
      );
      expect(u).toMatchObject({ topic: 'new', metadata: { a: '1', b: '2' } });
      expect(u?.retentionPolicy).toEqual({ kind: 'threadCreationDate', deleteThreadAfterDays: 30 });
      const m = await store.updateThread(t.id, { metadata: { a: null } }, undefined, T0 + 60);
      expect(m?.metadata).toEqual({ b: '2' });
      expect(m?.topic).toBe('new');
      expect((await store.listMessages(t.id, { notBefore: 0, limit: 1 }))[0]?.topic).toBe('new');
      expect(await store.deleteThread(t.id, T0 + 70)).toBe(true);
      expect(await store.deleteThread(t.id, T0 + 80)).toBe(false);
      expect((await store.getThread(t.id))?.deletedOn).toBe(T0 + 70);
      expect(await store.updateThread(t.id, { topic: 'x' }, undefined, T0)).toBeUndefined();
      expect(await store.listThreads(user(1), { limit: 10 })).toEqual([]);
    });

    it('lists threads by latest activity, pages with after, filters by startTime', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await store.createThread(threadInput(user(1), [], T0 + i * 1000))).thread.id);
      // Activity in the first thread makes it the newest.
      await store.appendMessage(ids[0] as string, { type: 'text', senderRawId: user(1), content: 'hi' }, T0 + 10_000);
      const page1 = await store.listThreads(user(1), { limit: 2 });
      expect(page1.map((t) => t.id)).toEqual([ids[0], ids[4]]);
      const last = page1[1];
      const page2 = await store.listThreads(user(1), {
        limit: 10,
        after: { lastMessageReceivedOn: last?.lastMessageReceivedOn ?? 0, id: last?.id ?? '' },
      });
      expect(page2.map((t) => t.id)).toEqual([ids[3], ids[2], ids[1]]);
      expect((await store.listThreads(user(1), { limit: 10, startTime: T0 + 3000 })).map((t) => t.id)).toEqual([
        ids[0],
        ids[4],
        ids[3],
      ]);
      expect(await store.listThreads(user(9), { limit: 10 })).toEqual([]);
    });

    it('threads written to in one group commit list by their latest activity for every participant', async () => {
      // SQLite brings each participant's thread order up to date once per thread at the end of a batch: sends,
      // an added participant and a removal issued together must leave every user's list as if done one by one.
      const a = (await store.createThread(threadInput(user(1), [{ rawId: user(2), shareHistoryTime: 0 }], T0))).thread;
      const b = (await store.createThread(threadInput(user(1), [], T0 + 1000))).thread;
      const c = (await store.createThread(threadInput(user(1), [], T0 + 2000))).thread;
      const text = (content: string) => ({ type: 'text' as const, senderRawId: user(1), content });
      await Promise.all([
        store.sendMessage({ threadId: a.id, resourceId: RESOURCE, draft: text('a1'), now: T0 + 5000 }),
        store.sendMessage({ threadId: b.id, resourceId: RESOURCE, draft: text('b1'), now: T0 + 6000 }),
        store.sendMessage({ threadId: a.id, resourceId: RESOURCE, draft: text('a2'), now: T0 + 7000 }),
        store.addParticipants(
          b.id,
          [{ rawId: user(3), shareHistoryTime: 0 }],
          { type: 'participantAdded', participants: [{ rawId: user(3), shareHistoryTime: 0 }] },
          T0 + 8000,
        ),
        // Refused (not a participant): must not move thread c.
        store.sendMessage({
          threadId: c.id,
          resourceId: RESOURCE,
          draft: { ...text('x'), senderRawId: user(9) },
          now: T0 + 9000,
        }),
      ]);
      const order = async (u: string) => (await store.listThreads(u, { limit: 10 })).map((t) => t.id);
      expect(await order(user(1))).toEqual([b.id, a.id, c.id]);
      expect(await order(user(2))).toEqual([a.id]);
      expect(await order(user(3))).toEqual([b.id]);
      const newest = await store.listThreads(user(2), { limit: 1, startTime: T0 + 7000 });
      expect(newest.map((t) => [t.id, t.lastMessageReceivedOn])).toEqual([[a.id, T0 + 7000]]);
    });

    it('keeps one read receipt per participant (latest wins), pages with skip', async () => {
      const t = (await store.createThread(threadInput(user(1), [{ rawId: user(2), shareHistoryTime: 0 }]))).thread;
      const m1 = await store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: 'a' }, T0 + 1000);
      const m2 = await store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: 'b' }, T0 + 2000);
      await store.putReadReceipt(t.id, { senderRawId: user(2), chatMessageId: m1.id, readOn: T0 + 1500 });
      await store.putReadReceipt(t.id, { senderRawId: user(2), chatMessageId: m2.id, readOn: T0 + 2500 });
      await store.putReadReceipt(t.id, { senderRawId: user(1), chatMessageId: m2.id, readOn: T0 + 2600 });
      const all = await store.listReadReceipts(t.id, 0, 10);
      expect(all).toHaveLength(2);
      expect(all.find((r) => r.senderRawId === user(2))).toEqual({
        senderRawId: user(2),
        chatMessageId: m2.id,
        readOn: T0 + 2500,
      });
      expect(await store.listReadReceipts(t.id, 1, 10)).toHaveLength(1);
    });

    it('a second instance on the same database sees every change and continues the id sequence', async () => {
      const other = await h.open();
      extra.push(other);
      await other.migrate();
      const t = (await store.createThread(threadInput(user(1)))).thread;
      expect((await other.getThread(t.id))?.topic).toBe(t.topic);
      const a = await store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: 'a' }, T0 + 100);
      const b = await other.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: 'b' }, T0 + 100);
      expect(Number(b.id)).toBe(Number(a.id) + 1);
      expect(b.sequenceId).toBe(a.sequenceId + 1);
    });

    it('writes issued together (group commit on SQLite) each succeed or fail alone, in order, nothing half', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      const sends = Array.from({ length: 40 }, (_, i) =>
        store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: `g${i}` }, T0 + 1000),
      );
      const bad = store.appendMessage('19:nothere@thread.v2', { type: 'text', content: 'x' }, T0 + 1000);
      const edit = store.putReadReceipt(t.id, { senderRawId: user(1), chatMessageId: '1', readOn: T0 + 2000 });
      const [sent, badResult] = await Promise.all([
        Promise.all(sends),
        bad.then(
          () => 'stored',
          () => 'refused',
        ),
        edit,
      ]);
      expect(badResult).toBe('refused');
      // Ids are contiguous (no gap left by the refused write); their order is the store's (SQLite: as issued).
      const ids = sent.map((m) => Number(m.id)).sort((a, b) => a - b);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
      const page = await store.listMessages(t.id, { notBefore: 0, limit: 100 });
      expect(
        page
          .filter((m) => m.type === 'text')
          .map((m) => m.content)
          .sort(),
      ).toEqual(Array.from({ length: 40 }, (_, i) => `g${i}`).sort());
      expect(await store.listMessages('19:nothere@thread.v2', { notBefore: 0, limit: 5 })).toEqual([]);
      expect(await store.listReadReceipts(t.id, 0, 10)).toHaveLength(1);
    });

    it('appending to an unknown thread stores nothing', async () => {
      await expect(store.appendMessage('19:nothere@thread.v2', { type: 'text', content: 'x' }, T0)).rejects.toThrow();
      expect(await store.listMessages('19:nothere@thread.v2', { notBefore: 0, limit: 5 })).toEqual([]);
    });

    it('getMembership reads the thread and the participant together; participantIds lists who is in', async () => {
      const t = (await store.createThread(threadInput(user(1), [{ rawId: user(2), shareHistoryTime: T0 + 5 }]))).thread;
      const m = await store.getMembership(t.id, user(2));
      expect(m?.thread).toEqual(await store.getThread(t.id));
      expect(m?.participant).toEqual(await store.getParticipant(t.id, user(2)));
      expect(m?.participant.shareHistoryTime).toBe(T0 + 5);
      expect(await store.getMembership(t.id, user(3))).toBeUndefined();
      expect(await store.getMembership('19:nothere@thread.v2', user(1))).toBeUndefined();
      expect((await store.participantIds(t.id)).sort()).toEqual([user(1), user(2)].sort());
      expect(await store.participantIds('19:nothere@thread.v2')).toEqual([]);
      await store.deleteThread(t.id, T0 + 9);
      expect((await store.getMembership(t.id, user(1)))?.thread.deletedOn).toBe(T0 + 9);
    });

    it('sendMessage appends only for a participant of a live thread of the resource, returning the recipients', async () => {
      const t = (await store.createThread(threadInput(user(1), [{ rawId: user(2), shareHistoryTime: 0 }]))).thread;
      const draft = { type: 'text' as const, senderRawId: user(2), content: 'hello', metadata: { k: 'v' } };
      const sent = await store.sendMessage({ threadId: t.id, resourceId: RESOURCE, draft, now: T0 + 100 });
      expect(sent?.recipients.sort()).toEqual([user(1), user(2)].sort());
      // The record answered is the one stored.
      expect(sent?.message).toEqual(await store.getMessage(t.id, sent?.message.id ?? ''));
      expect(sent?.message).toMatchObject({
        senderRawId: user(2),
        content: 'hello',
        metadata: { k: 'v' },
        sequenceId: 3,
      });
      // Not a participant, another resource, an unknown thread, a deleted thread: nothing is written.
      const outsider = { ...draft, senderRawId: user(3) };
      expect(await store.sendMessage({ threadId: t.id, resourceId: RESOURCE, draft: outsider, now: T0 + 101 })).toBe(
        undefined,
      );
      expect(
        await store.sendMessage({ threadId: t.id, resourceId: 'another-resource', draft, now: T0 + 102 }),
      ).toBeUndefined();
      expect(
        await store.sendMessage({ threadId: '19:nothere@thread.v2', resourceId: RESOURCE, draft, now: T0 + 103 }),
      ).toBeUndefined();
      await store.deleteThread(t.id, T0 + 104);
      expect(await store.sendMessage({ threadId: t.id, resourceId: RESOURCE, draft, now: T0 + 105 })).toBeUndefined();
      const texts = (await store.listMessages(t.id, { notBefore: 0, limit: 10 })).filter((m) => m.type === 'text');
      expect(texts.map((m) => m.content)).toEqual(['hello']);
    });

    it('sends and participant changes on one thread at the same time all succeed (no lock-order deadlock)', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      const other = store === h.store ? await h.open() : store;
      extra.push(other);
      const draft = { type: 'text' as const, senderRawId: user(1), content: 'x' };
      for (let round = 0; round < 10; round++) {
        const member = { rawId: user(100 + round), shareHistoryTime: 0 };
        const at = T0 + 1000 * (round + 1);
        await Promise.all([
          ...Array.from({ length: 4 }, (_, i) =>
            (i % 2 === 0 ? store : other).sendMessage({ threadId: t.id, resourceId: RESOURCE, draft, now: at + i }),
          ),
          other.addParticipants(t.id, [member], { type: 'participantAdded', participants: [member] }, at + 5),
          store.removeParticipant(t.id, user(99 + round), { type: 'participantRemoved', participants: [] }, at + 6),
        ]);
      }
      const texts = (await store.listMessages(t.id, { notBefore: 0, limit: 200 })).filter((m) => m.type === 'text');
      expect(texts).toHaveLength(40);
      // Each round removed the member the round before added.
      expect((await store.participantIds(t.id)).sort()).toEqual([user(1), user(109)].sort());
    });

    it('keeps text exactly (unicode, quotes, 28 KB)', async () => {
      const t = (await store.createThread(threadInput(user(1)))).thread;
      const text = `'"\\ é 𝄞 ${'x'.repeat(28_000)}`;
      const m = await store.appendMessage(t.id, { type: 'text', senderRawId: user(1), content: text }, T0 + 1);
      expect((await store.getMessage(t.id, m.id))?.content).toBe(text);
    });
  });
}
