import pg from 'pg';
import { pgMigration, pgTransaction } from '../service/pg-transaction.js';
import { ChatError } from '../errors.js';
import {
  insertedMessage,
  MEMBERSHIP_PARTICIPANT_COLUMNS,
  type MembershipRow,
  MESSAGE_INSERT_COLUMNS,
  type MessageRow,
  type ParticipantRow,
  type ReceiptRow,
  THREAD_COLUMNS,
  type ThreadRow,
  json,
  mergeMetadata,
  messageValues,
  toMembership,
  toMessage,
  toParticipant,
  toReceipt,
  toThread,
} from './chat-rows.js';
import type { ChatMessageDraft, ChatMessageRecord, ChatParticipantRecord, ChatStore } from './chat-store.js';

/** Options of {@link createPostgresChatStore}. */
export interface PostgresChatStoreOptions {
  /** `postgres://…`. Never echoed in errors or logs. */
  readonly connectionString: string;
  /** Schema of the chat tables (created by `migrate()`); default `public`. May be the identity server's. */
  readonly schema?: string | undefined;
  /** Most connections of this process; default 10. */
  readonly maxConnections?: number | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function migrations(s: string): string {
  return `
  CREATE SCHEMA IF NOT EXISTS ${s};
  CREATE TABLE IF NOT EXISTS ${s}.chat_threads (
    id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, topic TEXT NOT NULL, created_by TEXT NOT NULL,
    created_on BIGINT NOT NULL, deleted_on BIGINT, last_message_on BIGINT NOT NULL,
    metadata TEXT NOT NULL, retention TEXT,
    last_message_id BIGINT NOT NULL DEFAULT 0, last_sequence BIGINT NOT NULL DEFAULT 0,
    repeatability_id TEXT, fingerprint TEXT);
  CREATE UNIQUE INDEX IF NOT EXISTS chat_threads_repeatability
    ON ${s}.chat_threads (created_by, repeatability_id) WHERE repeatability_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS ${s}.chat_participants (
    thread_id TEXT NOT NULL, raw_id TEXT NOT NULL, display_name TEXT, share_history_time BIGINT NOT NULL,
    metadata TEXT, ord BIGSERIAL, PRIMARY KEY (thread_id, raw_id));
  CREATE INDEX IF NOT EXISTS chat_participants_user ON ${s}.chat_participants (raw_id, thread_id);
  CREATE TABLE IF NOT EXISTS ${s}.chat_messages (
    thread_id TEXT NOT NULL, id BIGINT NOT NULL, sequence_id BIGINT NOT NULL, type TEXT NOT NULL,
    sender TEXT, sender_display_name TEXT, content TEXT, topic TEXT, participants TEXT, initiator TEXT,
    metadata TEXT, version TEXT NOT NULL, created_on BIGINT NOT NULL, edited_on BIGINT, deleted_on BIGINT,
    PRIMARY KEY (thread_id, id));
  CREATE TABLE IF NOT EXISTS ${s}.chat_read_receipts (
    thread_id TEXT NOT NULL, sender TEXT NOT NULL, message_id BIGINT NOT NULL, read_on BIGINT NOT NULL,
    PRIMARY KEY (thread_id, sender));
  -- Each participant row carries its thread's last_message_on, indexed per user: a user's thread list reads one
  -- page in order from the index instead of sorting (and hash-joining) every thread they are in.
  ALTER TABLE ${s}.chat_participants ADD COLUMN IF NOT EXISTS last_message_on BIGINT;
  UPDATE ${s}.chat_participants p SET last_message_on = t.last_message_on FROM ${s}.chat_threads t
    WHERE t.id = p.thread_id AND p.last_message_on IS NULL;
  CREATE INDEX IF NOT EXISTS chat_participants_inbox ON ${s}.chat_participants (raw_id, last_message_on, thread_id);`;
}

type Client = pg.PoolClient;

/**
 * A {@link ChatStore} on PostgreSQL through a `pg` pool: many chat processes may share it. Message ids and
 * sequence ids come from the thread row, updated in the same transaction, so they stay unique and increasing
 * across processes. Database failures become `ERR_CHAT_STORE_UNAVAILABLE` (no driver message is passed on).
 */
export function createPostgresChatStore(options: PostgresChatStoreOptions): ChatStore {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new TypeError('The PostgreSQL schema name must be a plain identifier.');
  const s = `"${schema}"`;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    query_timeout: 10_000,
    statement_timeout: 10_000,
    application_name: 'tessera-chat',
  });
  pool.on('error', () => {});

  const unavailable = (error: unknown): ChatError =>
    error instanceof ChatError ? error : new ChatError('ERR_CHAT_STORE_UNAVAILABLE');

  async function query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await pool.query<R>(text, values)).rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  const tx = <T>(fn: (c: Client) => Promise<T>): Promise<T> => pgTransaction(pool, fn, unavailable);

  async function getMessage(c: Client | pg.Pool, threadId: string, id: string): Promise<MessageRow | undefined> {
    const r = await c.query<MessageRow>(`SELECT * FROM ${s}.chat_messages WHERE thread_id = $1 AND id = $2`, [
      threadId,
      id,
    ]);
    return r.rows[0];
  }

  async function lockMessage(c: Client, threadId: string, id: string): Promise<MessageRow | undefined> {
    const sql = `SELECT * FROM ${s}.chat_messages WHERE thread_id = $1 AND id = $2 FOR UPDATE`;
    return (await c.query<MessageRow>(sql, [threadId, id])).rows[0];
  }

  async function append(c: Client, threadId: string, draft: ChatMessageDraft, now: number): Promise<ChatMessageRecord> {
    const bumped = await c.query<{ last_message_id: string; last_sequence: string; last_message_on: string }>(
      `UPDATE ${s}.chat_threads SET last_message_id = GREATEST($1::bigint, last_message_id + 1),
         last_sequence = last_sequence + 1, last_message_on = GREATEST(last_message_on, $1::bigint)
       WHERE id = $2 RETURNING last_message_id, last_sequence, last_message_on`,
      [now, threadId],
    );
    const b = bumped.rows[0];
    if (b === undefined) throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    await c.query(`UPDATE ${s}.chat_participants SET last_message_on = $1 WHERE thread_id = $2`, [
      b.last_message_on,
      threadId,
    ]);
    const values = [threadId, b.last_message_id, b.last_sequence, ...messageValues(draft, b.last_message_id, now)];
    await c.query(
      `INSERT INTO ${s}.chat_messages (${MESSAGE_INSERT_COLUMNS})
       VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
      values,
    );
    return insertedMessage(threadId, String(b.last_message_id), Number(b.last_sequence), draft, now);
  }

  /**
   * Locks the thread row first. Every write that touches a thread's participants and its counters takes the thread
   * row, then the participant rows (a message updates both): one order, so a send and a participant change on the
   * same thread queue instead of deadlocking.
   */
  async function lockThread(c: Client, threadId: string): Promise<void> {
    await c.query(`SELECT 1 FROM ${s}.chat_threads WHERE id = $1 FOR UPDATE`, [threadId]);
  }

  async function upsertParticipants(c: Client, threadId: string, list: readonly ChatParticipantRecord[]) {
    for (const p of list) {
      await c.query(
        `INSERT INTO ${s}.chat_participants (thread_id, raw_id, display_name, share_history_time, metadata,
           last_message_on)
         VALUES ($1, $2, $3, $4, $5, (SELECT last_message_on FROM ${s}.chat_threads WHERE id = $1))
         ON CONFLICT (thread_id, raw_id) DO UPDATE SET
         display_name = EXCLUDED.display_name, share_history_time = EXCLUDED.share_history_time,
         metadata = EXCLUDED.metadata`,
        [threadId, p.rawId, p.displayName ?? null, p.shareHistoryTime, json(p.metadata)],
      );
    }
  }

  const guarded =
    <A extends unknown[], T>(fn: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      try {
        return await fn(...args);
      } catch (error) {
        throw unavailable(error);
      }
    };

  let closed = false;
  return {
    async migrate() {
      await pgMigration(
        pool,
        schema,
        async (c) => {
          await c.query(migrations(s));
        },
        unavailable,
      ).catch((error: unknown) => {
        throw unavailable(error);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    createThread: guarded(async (input) => {
      const t = input.thread;
      const r = input.repeatability;
      const replay = async () => {
        if (r === undefined) return undefined;
        const prior = (
          await query<ThreadRow>(
            `SELECT ${THREAD_COLUMNS}, t.fingerprint FROM ${s}.chat_threads t
             WHERE t.created_by = $1 AND t.repeatability_id = $2`,
            [t.createdBy, r.requestId],
          )
        )[0];
        return prior === undefined
          ? undefined
          : { thread: toThread(prior), created: false, sameRequest: prior.fingerprint === r.fingerprint };
      };
      const earlier = await replay();
      if (earlier !== undefined) return earlier;
      try {
        return await tx(async (c) => {
          await c.query(
            `INSERT INTO ${s}.chat_threads (id, resource_id, topic, created_by, created_on, last_message_on, metadata,
               retention, repeatability_id, fingerprint) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)`,
            [
              t.id,
              t.resourceId,
              t.topic,
              t.createdBy,
              t.createdOn,
              JSON.stringify(t.metadata),
              json(t.retentionPolicy),
              r?.requestId ?? null,
              r?.fingerprint ?? null,
            ],
          );
          await upsertParticipants(c, t.id, input.participants);
          for (const m of input.systemMessages) await append(c, t.id, m, t.createdOn);
          const row = (
            await c.query<ThreadRow>(`SELECT ${THREAD_COLUMNS} FROM ${s}.chat_threads t WHERE t.id = $1`, [t.id])
          ).rows[0] as ThreadRow;
          return { thread: toThread(row), created: true, sameRequest: true };
        });
      } catch (error) {
        // Two processes raced on one repeatability id: the loser answers with the winner's thread.
        if ((error as { code?: unknown }).code === '23505') {
          const winner = await replay();
          if (winner !== undefined) return winner;
        }
        throw error;
      }
    }),
    getThread: guarded(async (threadId) => {
      const row = (
        await query<ThreadRow>(`SELECT ${THREAD_COLUMNS} FROM ${s}.chat_threads t WHERE t.id = $1`, [threadId])
      )[0];
      return row === undefined ? undefined : toThread(row);
    }),
    listThreads: guarded(async (rawId, q) => {
      const rows = await query<ThreadRow>(
        `SELECT ${THREAD_COLUMNS} FROM ${s}.chat_participants p JOIN ${s}.chat_threads t ON t.id = p.thread_id
         WHERE p.raw_id = $1 AND p.last_message_on >= $2 AND t.deleted_on IS NULL
           ${q.after === undefined ? '' : 'AND (p.last_message_on, p.thread_id) < ($4::bigint, $5)'}
         ORDER BY p.last_message_on DESC, p.thread_id DESC LIMIT $3`,
        q.after === undefined
          ? [rawId, q.startTime ?? 0, q.limit]
          : [rawId, q.startTime ?? 0, q.limit, q.after.lastMessageReceivedOn, q.after.id],
      );
      return rows.map(toThread);
    }),
    updateThread: guarded((threadId, patch, systemMessage, now) =>
      tx(async (c) => {
        const row = (
          await c.query<ThreadRow>(`SELECT ${THREAD_COLUMNS} FROM ${s}.chat_threads t WHERE t.id = $1 FOR UPDATE`, [
            threadId,
          ])
        ).rows[0];
        if (row === undefined || row.deleted_on !== null) return undefined;
        const current = toThread(row);
        const metadata =
          patch.metadata === undefined ? current.metadata : mergeMetadata(current.metadata, patch.metadata);
        await c.query(`UPDATE ${s}.chat_threads SET topic = $1, metadata = $2, retention = $3 WHERE id = $4`, [
          patch.topic ?? current.topic,
          JSON.stringify(metadata),
          json(patch.retentionPolicy ?? current.retentionPolicy),
          threadId,
        ]);
        if (systemMessage !== undefined) await append(c, threadId, systemMessage, now);
        const after = (
          await c.query<ThreadRow>(`SELECT ${THREAD_COLUMNS} FROM ${s}.chat_threads t WHERE t.id = $1`, [threadId])
        ).rows[0] as ThreadRow;
        return toThread(after);
      }),
    ),
    deleteThread: guarded(async (threadId, now) => {
      const r = await pool
        .query(`UPDATE ${s}.chat_threads SET deleted_on = $1 WHERE id = $2 AND deleted_on IS NULL`, [now, threadId])
        .catch((error: unknown) => {
          throw unavailable(error);
        });
      return r.rowCount === 1;
    }),
    getParticipant: guarded(async (threadId, rawId) => {
      const row = (
        await query<ParticipantRow>(
          `SELECT raw_id, display_name, share_history_time, metadata FROM ${s}.chat_participants
           WHERE thread_id = $1 AND raw_id = $2`,
          [threadId, rawId],
        )
      )[0];
      return row === undefined ? undefined : toParticipant(row);
    }),
    getMembership: guarded(async (threadId, rawId) => {
      const row = (
        await query<MembershipRow>(
          `SELECT ${THREAD_COLUMNS}, ${MEMBERSHIP_PARTICIPANT_COLUMNS} FROM ${s}.chat_threads t
           JOIN ${s}.chat_participants p ON p.thread_id = t.id AND p.raw_id = $1 WHERE t.id = $2`,
          [rawId, threadId],
        )
      )[0];
      return row === undefined ? undefined : toMembership(row);
    }),
    participantIds: guarded(async (threadId) =>
      (
        await query<{ raw_id: string }>(`SELECT raw_id FROM ${s}.chat_participants WHERE thread_id = $1`, [threadId])
      ).map((r) => r.raw_id),
    ),
    listParticipants: guarded(async (threadId, skip, limit) =>
      (
        await query<ParticipantRow>(
          `SELECT raw_id, display_name, share_history_time, metadata FROM ${s}.chat_participants
           WHERE thread_id = $1 ORDER BY ord LIMIT $2 OFFSET $3`,
          [threadId, limit, skip],
        )
      ).map(toParticipant),
    ),
    addParticipants: guarded((threadId, participants, systemMessage, now) =>
      tx(async (c) => {
        await lockThread(c, threadId);
        await upsertParticipants(c, threadId, participants);
        await append(c, threadId, systemMessage, now);
      }),
    ),
    removeParticipant: guarded((threadId, rawId, systemMessage, now) =>
      tx(async (c) => {
        await lockThread(c, threadId);
        const r = await c.query(`DELETE FROM ${s}.chat_participants WHERE thread_id = $1 AND raw_id = $2`, [
          threadId,
          rawId,
        ]);
        if (r.rowCount !== 1) return false;
        await append(c, threadId, systemMessage, now);
        return true;
      }),
    ),
    appendMessage: guarded((threadId, draft, now) => tx((c) => append(c, threadId, draft, now))),
    // One statement, one round trip (a transaction of its own): the participant check, the thread's counters, the
    // participants' thread order, the message and the recipients. Concurrent sends to a thread queue on the thread
    // row's lock and each re-reads it, so ids stay unique and increasing.
    sendMessage: guarded(async ({ threadId, resourceId, draft, now }) => {
      const values = messageValues(draft, '', now).slice(0, 8); // type … metadata; the version is the id, in SQL
      const rows = await query<{ id: string; sequence_id: string; recipients: string[] }>(
        `WITH member AS (
           SELECT t.id FROM ${s}.chat_threads t
           JOIN ${s}.chat_participants p ON p.thread_id = t.id AND p.raw_id = $1
           WHERE t.id = $2 AND t.deleted_on IS NULL AND t.resource_id = $3),
         bumped AS (
           UPDATE ${s}.chat_threads t SET last_message_id = GREATEST($4::bigint, t.last_message_id + 1),
             last_sequence = t.last_sequence + 1, last_message_on = GREATEST(t.last_message_on, $4::bigint)
           FROM member m WHERE t.id = m.id
           RETURNING t.last_message_id, t.last_sequence, t.last_message_on),
         inbox AS (
           UPDATE ${s}.chat_participants p SET last_message_on = b.last_message_on FROM bumped b
           WHERE p.thread_id = $2),
         inserted AS (
           INSERT INTO ${s}.chat_messages (${MESSAGE_INSERT_COLUMNS})
           SELECT $2, b.last_message_id, b.last_sequence, $5, $6, $7, $8, $9, $10, $11, $12,
             b.last_message_id::text, $4::bigint FROM bumped b
           RETURNING id, sequence_id)
         SELECT i.id, i.sequence_id,
           ARRAY(SELECT raw_id FROM ${s}.chat_participants WHERE thread_id = $2) AS recipients
         FROM inserted i`,
        [draft.senderRawId, threadId, resourceId, now, ...values],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      const id = String(row.id);
      return {
        message: insertedMessage(threadId, id, Number(row.sequence_id), draft, now),
        recipients: row.recipients,
      };
    }),
    getMessage: guarded(async (threadId, messageId) => {
      const row = await getMessage(pool, threadId, messageId).catch((error: unknown) => {
        throw unavailable(error);
      });
      return row === undefined ? undefined : toMessage(row);
    }),
    listMessages: guarded(async (threadId, q) =>
      (
        await query<MessageRow>(
          `SELECT * FROM ${s}.chat_messages WHERE thread_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
             AND created_on >= $3 ORDER BY id DESC LIMIT $4`,
          [threadId, q.beforeId ?? null, q.notBefore, q.limit],
        )
      ).map(toMessage),
    ),
    updateMessage: guarded((threadId, messageId, patch, now) =>
      tx(async (c) => {
        const row = await lockMessage(c, threadId, messageId);
        if (row === undefined || row.deleted_on !== null) return undefined;
        const current = toMessage(row);
        const metadata =
          patch.metadata === undefined ? current.metadata : mergeMetadata(current.metadata, patch.metadata);
        await c.query(
          `UPDATE ${s}.chat_messages SET content = $1, metadata = $2, edited_on = $3, version = $4
           WHERE thread_id = $5 AND id = $6`,
          [
            patch.content ?? current.content ?? null,
            json(metadata),
            now,
            String(Math.max(now, Number(current.version) + 1)),
            threadId,
            messageId,
          ],
        );
        return toMessage((await getMessage(c, threadId, messageId)) as MessageRow);
      }),
    ),
    deleteMessage: guarded((threadId, messageId, now) =>
      tx(async (c) => {
        const row = await lockMessage(c, threadId, messageId);
        if (row === undefined) return undefined;
        if (row.deleted_on === null) {
          await c.query(
            `UPDATE ${s}.chat_messages SET deleted_on = $1, version = $2 WHERE thread_id = $3 AND id = $4`,
            [now, String(Math.max(now, Number(row.version) + 1)), threadId, messageId],
          );
        }
        return toMessage((await getMessage(c, threadId, messageId)) as MessageRow);
      }),
    ),
    putReadReceipt: guarded(async (threadId, receipt) => {
      await query(
        `INSERT INTO ${s}.chat_read_receipts (thread_id, sender, message_id, read_on) VALUES ($1, $2, $3, $4)
         ON CONFLICT (thread_id, sender) DO UPDATE SET message_id = EXCLUDED.message_id, read_on = EXCLUDED.read_on`,
        [threadId, receipt.senderRawId, receipt.chatMessageId, receipt.readOn],
      );
    }),
    listReadReceipts: guarded(async (threadId, skip, limit) =>
      (
        await query<ReceiptRow>(
          `SELECT sender, message_id, read_on FROM ${s}.chat_read_receipts WHERE thread_id = $1
           ORDER BY sender LIMIT $2 OFFSET $3`,
          [threadId, limit, skip],
        )
      ).map(toReceipt),
    ),
  };
}
