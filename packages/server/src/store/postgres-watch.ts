import pg from 'pg';
import { mapPostgresError, postgresEventChannel } from './postgres-store.js';

/** Options for {@link watchPostgresEvents}. */
export interface PostgresWatchOptions {
  readonly connectionString: string;
  readonly schema?: string | undefined;
  /** Called (possibly more than once per event) whenever another process may have appended events. */
  /**
   * Called with the notification's payload (an event seq, `roles`, `signing-keys`), or with none after a (re)connect,
   * when anything may have changed.
   */
  readonly onNotify: (payload?: string) => void;
  /** Connection failures arrive as `ERR_STORE_UNAVAILABLE` (never the driver's own error, which can name the host). */
  readonly onError: (error: unknown) => void;
  /**
   * Every this many ms the connection is pinged (bounded by the same time): a frozen connection, which keep-alive
   * cannot see, is dropped and reconnected. Default 5000.
   */
  readonly pingMs?: number | undefined;
}

/**
 * Listens for the store's event notifications on a dedicated connection (LISTEN/NOTIFY), so revocations made
 * through any process reach this one's caches and feed subscribers in milliseconds. Reconnects with capped
 * backoff; after each (re)connect it fires `onNotify` once, so whatever was appended while disconnected is
 * read back from the store. Returns a stop function.
 */
export function watchPostgresEvents(options: PostgresWatchOptions): () => Promise<void> {
  const channel = postgresEventChannel(options.schema);
  let client: pg.Client | undefined;
  let stopped = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const pingMs = options.pingMs ?? 5000;
  const onError = (error: unknown) => options.onError(mapPostgresError(error));

  const drop = (c: pg.Client, error: unknown): void => {
    if (client !== c && client !== undefined) return;
    onError(error);
    void c.end().catch(() => undefined);
    client = undefined;
    schedule();
  };

  // A LISTEN connection sends nothing while all is quiet, so a frozen one would stay unnoticed: ping it.
  const pinger = setInterval(() => {
    const c = client;
    if (c === undefined) return;
    c.query('SELECT 1').catch((error: unknown) => drop(c, error));
  }, pingMs);
  pinger.unref();

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'tessera-watch',
      connectionTimeoutMillis: pingMs,
      query_timeout: pingMs,
      keepAlive: true,
    });
    c.on('notification', (message) => options.onNotify(message.payload));
    c.on('error', (error) => drop(c, error));
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      if (stopped) {
        await c.end();
        return;
      }
      client = c;
      attempt = 0;
      options.onNotify();
    } catch (error) {
      onError(error);
      void c.end().catch(() => undefined);
      schedule();
    }
  };

  const schedule = (): void => {
    if (stopped || retryTimer !== undefined) return;
    const delay = Math.min(5000, 100 * 2 ** attempt++) * (0.5 + Math.random() / 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref();
  };

  void connect();
  return async () => {
    stopped = true;
    clearInterval(pinger);
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    await client?.end().catch(() => undefined);
    client = undefined;
  };
}
