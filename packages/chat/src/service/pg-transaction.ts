import type pg from 'pg';

/**
 * Runs `work` in one PostgreSQL transaction on a pooled client: BEGIN, COMMIT, or ROLLBACK and rethrow. A failure to
 * get a client is passed through `unavailable` (the store's mapping to ERR_STORE_UNAVAILABLE); errors of `work` are
 * rethrown as they are. Shared by the chat, rooms and presence stores and the event bus.
 */
export async function pgTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  unavailable: (error: unknown) => unknown,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(error);
  }
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Runs a migration of the chat package (chat store, rooms, presence, event bus) on `schema`: one transaction under
 * one advisory lock per schema, shared by all of them, so the components of several processes starting together
 * create the schema and their tables in turn (with a key per component, and none for the event bus, a three-process
 * start failed on Node 24). `CREATE … IF NOT EXISTS` is not safe against itself: a migration that still loses such a
 * race to something outside the lock (the identity server creating the same schema) fails with 23505 or 42P07 and
 * runs once more, which is then a no-op. Errors are passed on as {@link pgTransaction} passes them.
 */
export async function pgMigration(
  pool: pg.Pool,
  schema: string,
  work: (client: pg.PoolClient) => Promise<void>,
  unavailable: (error: unknown) => unknown,
): Promise<void> {
  const once = () =>
    pgTransaction(
      pool,
      async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera-chat-migrate:${schema}`]);
        await work(client);
      },
      unavailable,
    );
  try {
    await once();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P07') throw error;
    await once();
  }
}
