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
