import type pg from 'pg';

/**
 * Runs `work` in one PostgreSQL transaction on a pooled client: BEGIN, COMMIT, or ROLLBACK and rethrow. A failure to
 * get a client is passed through `unavailable` (the store's mapping to ERR_STORE_UNAVAILABLE); errors of `work` are
 * rethrown as they are. Shared by the chat, rooms and presence stores.
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
 * The advisory lock key every migration of the chat package takes on a schema (chat store, rooms, presence, event
 * bus): one key, so the components of several processes starting together create the schema and their tables in
 * turn. `CREATE … IF NOT EXISTS` is not safe against itself (the loser of the race fails with 23505 or 42P07): with a
 * key per component, two components could still race on `CREATE SCHEMA` (a three-process test failed so on Node 24).
 */
export function chatMigrationLockKey(schema: string): string {
  return `tessera-chat-migrate:${schema}`;
}
