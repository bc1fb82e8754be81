/** Migrates a freshly created store and returns it; on failure closes it (best effort) and rethrows. */
export async function migrateOrClose<T extends { migrate(): Promise<void>; close(): Promise<void> }>(
  store: T,
): Promise<T> {
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}
