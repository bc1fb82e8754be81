import { closeSync, fsync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChatError } from '../errors.js';
import {
  insertedMessage,
  MEMBERSHIP_PARTICIPANT_COLUMNS,
  MESSAGE_COLUMNS,
  MESSAGE_INSERT_COLUMNS,
  type MembershipRow,
  type MessageRow,
  type ParticipantRow,
  type ReceiptRow,
  THREAD_COLUMNS,
  type ThreadRow,
  json,
  mergeMetadata,
  messageFromValues,
  messageValues,
  toMembership,
  toMessage,
  toParticipant,
  toReceipt,
  toThread,
} from './chat-rows.js';
import type {
  ChatMessageDraft,
  ChatMessageRecord,
  ChatParticipantRecord,
  ChatStore,
  CreateThreadInput,
  CreateThreadResult,
} from './chat-store.js';
import { startSqliteCheckpointer } from './sqlite-checkpointer.js';

/** Options of {@link createSqliteChatStore}. */
export interface SqliteChatStoreOptions {
  /** Database file (its folder is created), or `:memory:`. May be the identity server's file: the tables differ. */
  path: string;
  /**
   * `full` (default): every acknowledged write is on disk — writes are group-committed (those arriving in the same
   * event-loop turn, or while an fsync runs, share one transaction) and each resolves only after its commit and an
   * fsync of the WAL (run in the thread pool). `normal`
   * (opt-out): WAL without the fsync — nothing is lost when the process crashes (kill -9), the last commits may be
   * lost on power loss or an OS crash (docs/chat.md, "Durability").
   */
  synchronous?: 'full' | 'normal' | undefined;
  /**
   * WAL checkpoints: on a thread of their own (default), every `intervalMs` (100); past `maxWalFrames` WAL pages
   * (8,000: 32 MB at 4 KB pages) that the thread could not checkpoint while writes kept coming, the writer checkpoints
   * the rest after its next commit. `false`: SQLite's own, in the COMMIT on the event loop.
   */
  checkpoint?: { intervalMs?: number | undefined; maxWalFrames?: number | undefined } | false | undefined;
}

/** The schema: one statement list per version, applied in order (`PRAGMA user_version` is not shared, see below). */
export const SQLITE_CHAT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS chat_threads (
     id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, topic TEXT NOT NULL, created_by TEXT NOT NULL,
     created_on INTEGER NOT NULL, deleted_on INTEGER, last_message_on INTEGER NOT NULL,
     metadata TEXT NOT NULL, retention TEXT,
     last_message_id INTEGER NOT NULL DEFAULT 0, last_sequence INTEGER NOT NULL DEFAULT 0,
     repeatability_id TEXT, fingerprint TEXT);
   CREATE UNIQUE INDEX IF NOT EXISTS chat_threads_repeatability
     ON chat_threads (created_by, repeatability_id) WHERE repeatability_id IS NOT NULL;
   CREATE TABLE IF NOT EXISTS chat_participants (
     thread_id TEXT NOT NULL, raw_id TEXT NOT NULL, display_name TEXT, share_history_time INTEGER NOT NULL,
     metadata TEXT, PRIMARY KEY (thread_id, raw_id));
   CREATE INDEX IF NOT EXISTS chat_participants_user ON chat_participants (raw_id, thread_id);
   CREATE TABLE IF NOT EXISTS chat_messages (
     thread_id TEXT NOT NULL, id INTEGER NOT NULL, sequence_id INTEGER NOT NULL, type TEXT NOT NULL,
     sender TEXT, sender_display_name TEXT, content TEXT, topic TEXT, participants TEXT, initiator TEXT,
     metadata TEXT, version TEXT NOT NULL, created_on INTEGER NOT NULL, edited_on INTEGER, deleted_on INTEGER,
     PRIMARY KEY (thread_id, id)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS chat_read_receipts (
     thread_id TEXT NOT NULL, sender TEXT NOT NULL, message_id INTEGER NOT NULL, read_on INTEGER NOT NULL,
     PRIMARY KEY (thread_id, sender));`,
  // 2: each participant row carries its thread's last_message_on, indexed per user, so a user's thread list reads
  // one page in order from the index instead of sorting every thread they are in (bench/chat-memory.mjs: at ~830
  // threads per user, 508 requests/s against 4,821 at 3).
  `ALTER TABLE chat_participants ADD COLUMN last_message_on INTEGER NOT NULL DEFAULT 0;
   UPDATE chat_participants SET last_message_on =
     (SELECT t.last_message_on FROM chat_threads t WHERE t.id = chat_participants.thread_id);
   CREATE INDEX IF NOT EXISTS chat_participants_inbox ON chat_participants (raw_id, last_message_on, thread_id);`,
];

/** A {@link ChatStore} on SQLite (better-sqlite3): one process, WAL, every method one transaction. */
export function createSqliteChatStore(options: SqliteChatStoreOptions): ChatStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(options.path);
  } catch (cause) {
    throw new ChatError('ERR_CHAT_STORE_UNAVAILABLE', { cause });
  }
  db.pragma('journal_mode = WAL');
  // Durable (the default): SQLite commits without an fsync of its own and the store fsyncs the WAL itself, in libuv's
  // thread pool, before it answers — what synchronous = FULL does in WAL mode (an fsync of the WAL per commit), but
  // the event loop keeps parsing and verifying requests while the disk syncs, and the writes arriving meanwhile share
  // the next commit and fsync. `normal`: no fsync before answering.
  const durable = options.synchronous !== 'normal' && options.path !== ':memory:';
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // A WAL that grew under a burst is cut back to 64 MB when it restarts, not kept at its largest.
  db.pragma('journal_size_limit = 67108864');
  let checkpointDue = false;
  const maxWalFrames = (options.checkpoint === false ? undefined : options.checkpoint?.maxWalFrames) ?? 8000;
  const checkpointer =
    options.checkpoint === false || options.path === ':memory:'
      ? undefined
      : startSqliteCheckpointer({
          path: options.path,
          intervalMs: options.checkpoint?.intervalMs,
          onPass: ({ frames }) => {
            if (frames > maxWalFrames) checkpointDue = true;
          },
          onFailure: () => {
            // Back to SQLite's own checkpoints: the WAL stays bounded, at the event loop's cost.
            if (db.open) db.pragma('wal_autocheckpoint = 1000');
          },
        });
  if (checkpointer !== undefined) db.pragma('wal_autocheckpoint = 0');

  const migrate = () => {
    // The identity server may share this file and owns PRAGMA user_version: chat keeps its own version table.
    db.exec('CREATE TABLE IF NOT EXISTS chat_schema (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM chat_schema').get() as { version: number } | undefined;
    const from = row?.version ?? 0;
    db.transaction(() => {
      for (let v = from; v < SQLITE_CHAT_MIGRATIONS.length; v++) db.exec(SQLITE_CHAT_MIGRATIONS[v] as string);
      if (row === undefined)
        db.prepare('INSERT INTO chat_schema (version) VALUES (?)').run(SQLITE_CHAT_MIGRATIONS.length);
      else db.prepare('UPDATE chat_schema SET version = ?').run(SQLITE_CHAT_MIGRATIONS.length);
    })();
  };
  migrate();

  const q = {
    thread: db.prepare(`SELECT ${THREAD_COLUMNS} FROM chat_threads t WHERE t.id = ?`),
    replay: db.prepare(
      `SELECT ${THREAD_COLUMNS}, t.fingerprint FROM chat_threads t WHERE t.created_by = ? AND t.repeatability_id = ?`,
    ),
    insertThread: db.prepare(
      `INSERT INTO chat_threads (id, resource_id, topic, created_by, created_on, last_message_on, metadata, retention,
         repeatability_id, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    bump: db.prepare(
      `UPDATE chat_threads SET last_message_id = MAX(?, last_message_id + 1), last_sequence = last_sequence + 1,
         last_message_on = MAX(last_message_on, ?) WHERE id = ?
       RETURNING last_message_id, last_sequence, last_message_on`,
    ),
    insertMessage: db.prepare(
      `INSERT INTO chat_messages (${MESSAGE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertParticipant: db.prepare(
      `INSERT INTO chat_participants (thread_id, raw_id, display_name, share_history_time, metadata, last_message_on)
       VALUES (?, ?, ?, ?, ?, (SELECT last_message_on FROM chat_threads WHERE id = ?))
       ON CONFLICT (thread_id, raw_id) DO UPDATE SET display_name = excluded.display_name,
       share_history_time = excluded.share_history_time, metadata = excluded.metadata`,
    ),
    inbox: db.prepare(
      `UPDATE chat_participants SET last_message_on = (SELECT last_message_on FROM chat_threads WHERE id = ?)
       WHERE thread_id = ?`,
    ),
    participant: db.prepare(
      'SELECT raw_id, display_name, share_history_time, metadata FROM chat_participants WHERE thread_id = ? AND raw_id = ?',
    ),
    membership: db.prepare(
      `SELECT ${THREAD_COLUMNS}, ${MEMBERSHIP_PARTICIPANT_COLUMNS} FROM chat_threads t
       JOIN chat_participants p ON p.thread_id = t.id AND p.raw_id = ? WHERE t.id = ?`,
    ),
    participantIds: db.prepare('SELECT raw_id FROM chat_participants WHERE thread_id = ?').pluck(),
    // A send's check and its event's recipients in one read: [deleted_on, resource_id, raw_id] per participant.
    sendTargets: db
      .prepare(
        `SELECT t.deleted_on, t.resource_id, p.raw_id FROM chat_threads t
         JOIN chat_participants p ON p.thread_id = t.id WHERE t.id = ?`,
      )
      .raw(true),
    participants: db.prepare(
      `SELECT raw_id, display_name, share_history_time, metadata FROM chat_participants WHERE thread_id = ?
       ORDER BY rowid LIMIT ? OFFSET ?`,
    ),
    removeParticipant: db.prepare('DELETE FROM chat_participants WHERE thread_id = ? AND raw_id = ?'),
    listThreads: db.prepare(
      `SELECT ${THREAD_COLUMNS} FROM chat_participants p JOIN chat_threads t ON t.id = p.thread_id
       WHERE p.raw_id = ? AND p.last_message_on >= ? AND (p.last_message_on, p.thread_id) < (?, ?)
         AND t.deleted_on IS NULL
       ORDER BY p.last_message_on DESC, p.thread_id DESC LIMIT ?`,
    ),
    updateThread: db.prepare('UPDATE chat_threads SET topic = ?, metadata = ?, retention = ? WHERE id = ?'),
    deleteThread: db.prepare('UPDATE chat_threads SET deleted_on = ? WHERE id = ? AND deleted_on IS NULL'),
    message: db.prepare('SELECT * FROM chat_messages WHERE thread_id = ? AND id = ?'),
    messages: db
      .prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM chat_messages WHERE thread_id = ? AND id < ? AND created_on >= ?
         ORDER BY id DESC LIMIT ?`,
      )
      .raw(true),
    updateMessage: db.prepare(
      'UPDATE chat_messages SET content = ?, metadata = ?, edited_on = ?, version = ? WHERE thread_id = ? AND id = ?',
    ),
    deleteMessage: db.prepare(
      'UPDATE chat_messages SET deleted_on = ?, version = ? WHERE thread_id = ? AND id = ? AND deleted_on IS NULL',
    ),
    putReceipt: db.prepare(
      `INSERT INTO chat_read_receipts (thread_id, sender, message_id, read_on) VALUES (?, ?, ?, ?)
       ON CONFLICT (thread_id, sender) DO UPDATE SET message_id = excluded.message_id, read_on = excluded.read_on`,
    ),
    receipts: db.prepare(
      'SELECT sender, message_id, read_on FROM chat_read_receipts WHERE thread_id = ? ORDER BY sender LIMIT ? OFFSET ?',
    ),
  };

  // Threads that got a message in the current write batch: their participants' inbox order (last_message_on) is
  // brought up to date once per thread at the end of the batch, not once per message — in a busy thread, fifty
  // messages of one batch rewrote every participant's index entry fifty times. Nothing reads it inside a batch.
  const touched = new Set<string>();

  function append(threadId: string, draft: ChatMessageDraft, now: number): ChatMessageRecord {
    const bumped = q.bump.get(now, now, threadId) as
      | { last_message_id: number; last_sequence: number; last_message_on: number }
      | undefined;
    if (bumped === undefined) throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    touched.add(threadId);
    const id = String(bumped.last_message_id);
    q.insertMessage.run(threadId, bumped.last_message_id, bumped.last_sequence, ...messageValues(draft, id, now));
    return insertedMessage(threadId, id, bumped.last_sequence, draft, now);
  }

  function upsertParticipants(threadId: string, list: readonly ChatParticipantRecord[]): void {
    for (const p of list) {
      q.upsertParticipant.run(threadId, p.rawId, p.displayName ?? null, p.shareHistoryTime, json(p.metadata), threadId);
    }
  }

  const createTx = db.transaction((input: CreateThreadInput): CreateThreadResult => {
    const r = input.repeatability;
    if (r !== undefined) {
      const prior = q.replay.get(input.thread.createdBy, r.requestId) as ThreadRow | undefined;
      if (prior !== undefined) {
        return { thread: toThread(prior), created: false, sameRequest: prior.fingerprint === r.fingerprint };
      }
    }
    const t = input.thread;
    q.insertThread.run(
      t.id,
      t.resourceId,
      t.topic,
      t.createdBy,
      t.createdOn,
      t.createdOn,
      JSON.stringify(t.metadata),
      json(t.retentionPolicy),
      r?.requestId ?? null,
      r?.fingerprint ?? null,
    );
    upsertParticipants(t.id, input.participants);
    for (const m of input.systemMessages) append(t.id, m, t.createdOn);
    return { thread: toThread(q.thread.get(t.id) as ThreadRow), created: true, sameRequest: true };
  });

  // Store calls are synchronous underneath; a failure of SQLite itself becomes ERR_CHAT_STORE_UNAVAILABLE.
  const asChatError = (error: unknown): unknown =>
    error instanceof ChatError ? error : new ChatError('ERR_CHAT_STORE_UNAVAILABLE', { cause: error });
  const run = async <T>(fn: () => T): Promise<T> => {
    try {
      return fn();
    } catch (error) {
      throw asChatError(error);
    }
  };

  // Group commit (as the identity server's identity creation): writes arriving in the same event-loop turn share
  // one transaction and one fsync, and each promise settles only after that commit and its fsync, so an acknowledged
  // write is on disk. Each write runs in its own savepoint (a nested better-sqlite3 transaction): one that fails rolls back
  // alone, never its neighbours, and each sees the writes queued before it.
  type PendingWrite = { run: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };
  let queue: PendingWrite[] = [];
  // The savepoint statements are prepared once: wrapping each write in a fresh db.transaction() built four closures
  // and their properties per write (~4 µs of a send's ~55).
  const savepoint = db.prepare('SAVEPOINT tessera_write');
  const release = db.prepare('RELEASE tessera_write');
  const rollbackTo = db.prepare('ROLLBACK TO tessera_write');
  const flushWrites = db.transaction((batch: readonly PendingWrite[]) => {
    const settled: Array<() => void> = [];
    for (const p of batch) {
      savepoint.run();
      try {
        const value = p.run();
        release.run();
        settled.push(() => p.resolve(value));
      } catch (error) {
        // SQLite rolled the whole transaction back itself (SQLITE_FULL, SQLITE_IOERR): the batch fails as one.
        if (!db.inTransaction) throw error;
        rollbackTo.run();
        release.run();
        settled.push(() => p.reject(asChatError(error)));
      }
    }
    for (const threadId of touched) q.inbox.run(threadId, threadId);
    touched.clear();
    return settled;
  });
  // The WAL's fsync. While one runs, new writes queue without being run: its completion answers its batch, then
  // commits everything queued meanwhile as one batch and starts the next fsync. Committing them at once instead of
  // in a batch of their own each event-loop turn made batches half as large under load (19 against 46 writes at
  // 50 connections), and each commit writes the pages it dirtied to the WAL again.
  let walFd: number | undefined;
  let syncing = false;
  const syncWal = (settled: Array<() => void>, batch: readonly PendingWrite[]) => {
    syncing = true;
    const done = (error: unknown) => {
      syncing = false;
      if (error === null) for (const settle of settled) settle();
      else for (const p of batch) p.reject(asChatError(error));
      flush();
    };
    try {
      if (walFd === undefined) {
        walFd = openSync(`${options.path}-wal`, 'r');
        // Once: the WAL's directory entry, so the file itself survives a power loss.
        const dirFd = openSync(dirname(options.path), 'r');
        try {
          fsyncSync(dirFd);
        } finally {
          closeSync(dirFd);
        }
      }
      fsync(walFd, done);
    } catch (error) {
      done(error);
    }
  };
  const flush = () => {
    if (queue.length === 0 || syncing) return;
    const batch = queue;
    queue = [];
    let settled: Array<() => void>;
    try {
      if (!db.open) throw new TypeError('The database connection is not open');
      settled = flushWrites.immediate(batch);
    } catch (error) {
      touched.clear();
      for (const p of batch) p.reject(asChatError(error));
      return;
    }
    if (checkpointDue) {
      // The WAL restarts from its beginning at the next write once every page is in the database file.
      checkpointDue = false;
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // The batch is committed; the next pass of the thread tries again.
      }
    }
    if (durable) syncWal(settled, batch);
    else for (const settle of settled) settle();
  };
  const write = <T>(fn: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      // While an fsync runs, its completion flushes the queue.
      if (queue.length === 0 && !syncing) setImmediate(flush);
      queue.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
    });

  return {
    async migrate() {
      await run(migrate);
    },
    async close() {
      // Writes still queued are committed, synced and answered before the file closes.
      flush();
      while (syncing || queue.length > 0) {
        flush();
        await new Promise((r) => setImmediate(r));
      }
      await checkpointer?.close();
      if (db.open) db.close();
      if (walFd !== undefined) closeSync(walFd);
      walFd = undefined;
    },
    createThread: (input) => write(() => createTx(input)),
    getThread: (threadId) =>
      run(() => {
        const row = q.thread.get(threadId) as ThreadRow | undefined;
        return row === undefined ? undefined : toThread(row);
      }),
    listThreads: (rawId, query) =>
      run(() => {
        const after = query.after ?? { lastMessageReceivedOn: Number.MAX_SAFE_INTEGER, id: '' };
        const rows = q.listThreads.all(
          rawId,
          query.startTime ?? 0,
          after.lastMessageReceivedOn,
          query.after === undefined ? '\uffff' : after.id,
          query.limit,
        ) as ThreadRow[];
        return rows.map(toThread);
      }),
    updateThread: (threadId, patch, systemMessage, now) =>
      write(() => {
        const row = q.thread.get(threadId) as ThreadRow | undefined;
        if (row === undefined || row.deleted_on !== null) return undefined;
        const current = toThread(row);
        const metadata =
          patch.metadata === undefined ? current.metadata : mergeMetadata(current.metadata, patch.metadata);
        q.updateThread.run(
          patch.topic ?? current.topic,
          JSON.stringify(metadata),
          json(patch.retentionPolicy ?? current.retentionPolicy),
          threadId,
        );
        if (systemMessage !== undefined) append(threadId, systemMessage, now);
        return toThread(q.thread.get(threadId) as ThreadRow);
      }),
    deleteThread: (threadId, now) => write(() => q.deleteThread.run(now, threadId).changes === 1),
    getParticipant: (threadId, rawId) =>
      run(() => {
        const row = q.participant.get(threadId, rawId) as ParticipantRow | undefined;
        return row === undefined ? undefined : toParticipant(row);
      }),
    getMembership: (threadId, rawId) =>
      run(() => {
        const row = q.membership.get(rawId, threadId) as MembershipRow | undefined;
        return row === undefined ? undefined : toMembership(row);
      }),
    participantIds: (threadId) => run(() => q.participantIds.all(threadId) as string[]),
    listParticipants: (threadId, skip, limit) =>
      run(() => (q.participants.all(threadId, limit, skip) as ParticipantRow[]).map(toParticipant)),
    addParticipants: (threadId, participants, systemMessage, now) =>
      write(() => {
        upsertParticipants(threadId, participants);
        append(threadId, systemMessage, now);
      }),
    removeParticipant: (threadId, rawId, systemMessage, now) =>
      write(() => {
        if (q.removeParticipant.run(threadId, rawId).changes !== 1) return false;
        append(threadId, systemMessage, now);
        return true;
      }),
    appendMessage: (threadId, draft, now) => write(() => append(threadId, draft, now)),
    // Inside the group commit: the membership check reads in the batch's transaction, so a send costs no read
    // transaction of its own (each one outside a transaction takes and drops SQLite's file locks: ~7 µs of fcntl).
    sendMessage: ({ threadId, resourceId, draft, now }) =>
      write(() => {
        const rows = q.sendTargets.all(threadId) as Array<[number | null, string, string]>;
        const first = rows[0];
        if (first === undefined || first[0] !== null || first[1] !== resourceId) return undefined;
        const recipients = rows.map((row) => row[2]);
        if (!recipients.includes(draft.senderRawId)) return undefined;
        return { message: append(threadId, draft, now), recipients };
      }),
    getMessage: (threadId, messageId) =>
      run(() => {
        const row = q.message.get(threadId, Number(messageId)) as MessageRow | undefined;
        return row === undefined ? undefined : toMessage(row);
      }),
    listMessages: (threadId, query) =>
      run(() =>
        (
          q.messages.all(
            threadId,
            query.beforeId === undefined ? Number.MAX_SAFE_INTEGER : Number(query.beforeId),
            query.notBefore,
            query.limit,
          ) as unknown[][]
        ).map(messageFromValues),
      ),
    updateMessage: (threadId, messageId, patch, now) =>
      write(() => {
        const row = q.message.get(threadId, Number(messageId)) as MessageRow | undefined;
        if (row === undefined || row.deleted_on !== null) return undefined;
        const current = toMessage(row);
        const metadata =
          patch.metadata === undefined ? current.metadata : mergeMetadata(current.metadata, patch.metadata);
        const version = String(Math.max(now, Number(current.version) + 1));
        q.updateMessage.run(patch.content ?? current.content ?? null, json(metadata), now, version, threadId, row.id);
        return toMessage(q.message.get(threadId, row.id) as MessageRow);
      }),
    deleteMessage: (threadId, messageId, now) =>
      write(() => {
        const row = q.message.get(threadId, Number(messageId)) as MessageRow | undefined;
        if (row === undefined) return undefined;
        if (row.deleted_on === null) {
          q.deleteMessage.run(now, String(Math.max(now, Number(row.version) + 1)), threadId, row.id);
        }
        return toMessage(q.message.get(threadId, row.id) as MessageRow);
      }),
    putReadReceipt: (threadId, receipt) =>
      write(() => {
        q.putReceipt.run(threadId, receipt.senderRawId, Number(receipt.chatMessageId), receipt.readOn);
      }),
    listReadReceipts: (threadId, skip, limit) =>
      run(() => (q.receipts.all(threadId, limit, skip) as ReceiptRow[]).map(toReceipt)),
  };
}
