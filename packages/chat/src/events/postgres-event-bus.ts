import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ChatError } from '../errors.js';
import { pgMigration } from '../service/pg-transaction.js';
import type { ChatEvent, ChatEventBus, ChatEventListener } from './event-bus.js';
import { createInProcessEventBus } from './in-process-event-bus.js';

/** Options of {@link createPostgresEventBus}. */
export interface PostgresEventBusOptions {
  readonly connectionString: string;
  /** The schema holding the by-reference event table (and naming the channel). Default `public`. */
  readonly schema?: string | undefined;
  /** Told of connection failures (as `ERR_CHAT_STORE_UNAVAILABLE`, never the driver's text) and listener throws. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** The LISTEN connection is pinged this often (ms) so a frozen one is replaced. Default 5,000. */
  readonly pingMs?: number | undefined;
  /** Events whose JSON is larger than this many bytes go by reference (row + id). Default 7,900 (NOTIFY: < 8,000). */
  readonly inlineLimitBytes?: number | undefined;
  /** By-reference rows older than this are deleted, ms. Default 300,000. */
  readonly referenceTtlMs?: number | undefined;
}

/** A {@link ChatEventBus} across processes; `ready()` resolves once this process listens. */
export interface PostgresEventBus extends ChatEventBus {
  ready(): Promise<void>;
  /** Listeners registered in this process. */
  listenerCount(): number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** The NOTIFY payload: the publishing bus, and the event itself or the id of its row. */
type Notice = { readonly o: string; readonly e: ChatEvent } | { readonly o: string; readonly r: string };

/** The NOTIFY channel of a schema's chat events. */
export function postgresChatEventChannel(schema = 'public'): string {
  return `tessera_chat_events_${schema}`.slice(0, 63);
}

/**
 * A {@link ChatEventBus} on PostgreSQL LISTEN/NOTIFY: `publish` delivers to this process's listeners at once and
 * sends the event on the schema's channel; every other bus on the same database and schema hands it to its own
 * listeners (each process its own, never twice). An event whose JSON is over `inlineLimitBytes` (NOTIFY payloads
 * end below 8,000 bytes) is stored in `tessera_chat_event_refs` and only its id is sent; rows are deleted after
 * `referenceTtlMs`. Notifications are handled one after another, so every process hears one publisher's events in
 * its order. While the LISTEN connection is down (it reconnects with capped backoff) this process hears nothing
 * from the others: those events are not replayed.
 */
export function createPostgresEventBus(options: PostgresEventBusOptions): PostgresEventBus {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new TypeError('The PostgreSQL schema name must be a plain identifier.');
  const s = `"${schema}"`;
  const channel = postgresChatEventChannel(schema);
  const pingMs = options.pingMs ?? 5_000;
  const inlineLimit = options.inlineLimitBytes ?? 7_900;
  const ttlMs = options.referenceTtlMs ?? 300_000;
  const origin = randomBytes(8).toString('hex');
  const onError = options.onError ?? (() => undefined);
  const local = createInProcessEventBus({ onListenerError: (error) => onError(error) });
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 4,
    application_name: 'tessera-chat-events',
    connectionTimeoutMillis: pingMs,
  });
  pool.on('error', () => undefined);
  const unavailable = (error: unknown) => new ChatError('ERR_CHAT_STORE_UNAVAILABLE', { cause: error });

  let listener: pg.Client | undefined;
  let stopped = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSweep = 0;
  // Notifications are resolved (a by-reference one needs a query) and delivered strictly in arrival order.
  let chain: Promise<void> = Promise.resolve();

  // Several processes starting together on a fresh schema take turns creating it (pgMigration).
  const migrated = pgMigration(
    pool,
    schema,
    async (c) => {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${s}.tessera_chat_event_refs (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      );
    },
    (error) => error,
  );
  migrated.catch(() => undefined);

  const receive = (payload: string | undefined): void => {
    if (payload === undefined) return;
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (notice.o === origin) return;
    chain = chain.then(async () => {
      try {
        const event =
          'e' in notice
            ? notice.e
            : ((
                await pool.query<{ payload: string }>(
                  `SELECT payload FROM ${s}.tessera_chat_event_refs WHERE id = $1`,
                  [notice.r],
                )
              ).rows[0]?.payload ?? undefined);
        if (event === undefined) return;
        await local.publish(typeof event === 'string' ? (JSON.parse(event) as ChatEvent) : event);
      } catch (error) {
        onError(unavailable(error));
      }
    });
  };

  // ready(): settles with the first connect — resolved when listening, rejected when it failed (retries go on).
  let firstListen: (() => void) | undefined;
  let firstFailure: ((error: unknown) => void) | undefined;
  const listening = new Promise<void>((resolve, reject) => {
    firstListen = resolve;
    firstFailure = reject;
  });
  listening.catch(() => undefined);

  const drop = (c: pg.Client, error: unknown): void => {
    if (listener !== c && listener !== undefined) return;
    onError(unavailable(error));
    void c.end().catch(() => undefined);
    listener = undefined;
    schedule();
  };
  const pinger = setInterval(() => {
    const c = listener;
    if (c !== undefined) c.query('SELECT 1').catch((error: unknown) => drop(c, error));
  }, pingMs);
  pinger.unref();

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'tessera-chat-events-listen',
      connectionTimeoutMillis: pingMs,
      query_timeout: pingMs,
      keepAlive: true,
    });
    c.on('notification', (message) => receive(message.payload));
    c.on('error', (error) => drop(c, error));
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      if (stopped) {
        await c.end();
        return;
      }
      listener = c;
      attempt = 0;
      firstListen?.();
    } catch (error) {
      onError(unavailable(error));
      firstFailure?.(unavailable(error));
      void c.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = (): void => {
    if (stopped || retryTimer !== undefined) return;
    const delay = Math.min(5_000, 100 * 2 ** attempt++) * (0.5 + Math.random() / 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref();
  };
  void connect();

  async function send(event: ChatEvent): Promise<void> {
    const json = JSON.stringify(event);
    let notice: string;
    if (Buffer.byteLength(json) + 40 <= inlineLimit) {
      notice = `{"o":"${origin}","e":${json}}`;
    } else {
      await migrated;
      const now = Date.now();
      const row = await pool.query<{ id: string }>(
        `INSERT INTO ${s}.tessera_chat_event_refs (payload, created_at) VALUES ($1, $2) RETURNING id`,
        [json, now],
      );
      notice = JSON.stringify({ o: origin, r: row.rows[0]?.id });
      if (now - lastSweep > Math.min(ttlMs, 60_000)) {
        lastSweep = now;
        pool
          .query(`DELETE FROM ${s}.tessera_chat_event_refs WHERE created_at < $1`, [now - ttlMs])
          .catch(() => undefined);
      }
    }
    await pool.query('SELECT pg_notify($1, $2)', [channel, notice]);
  }

  return {
    async publish(event: ChatEvent): Promise<void> {
      await local.publish(event);
      try {
        await send(event);
      } catch (error) {
        throw unavailable(error);
      }
    },
    subscribe(userRawId: string, listenerFn: ChatEventListener): () => void {
      return local.subscribe(userRawId, listenerFn);
    },
    async ready(): Promise<void> {
      try {
        await migrated;
      } catch (error) {
        throw unavailable(error);
      }
      await listening;
    },
    listenerCount: () => local.listenerCount(),
    async close(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearInterval(pinger);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      firstListen?.();
      await listener?.end().catch(() => undefined);
      listener = undefined;
      await chain;
      await local.close();
      await pool.end().catch(() => undefined);
    },
  };
}
