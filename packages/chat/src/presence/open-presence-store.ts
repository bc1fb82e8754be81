import type { ChatStoreLocation } from '../service/open-chat-store.js';
import { createPostgresPresenceStore } from './presence-store-postgres.js';
import { createSqlitePresenceStore } from './presence-store-sqlite.js';
import type { PresenceStore } from './presence-store.js';
import { migrateOrClose } from '../service/migrate-or-close.js';

/**
 * Opens (and migrates) the presence store at a chat store location: the same SQLite file or PostgreSQL database
 * and schema as the chat store (table `chat_presence`).
 */
export async function openPresenceStore(location: ChatStoreLocation): Promise<PresenceStore> {
  const store =
    location.kind === 'sqlite'
      ? createSqlitePresenceStore({ path: location.path })
      : createPostgresPresenceStore({ connectionString: location.url, schema: location.schema });
  return migrateOrClose(store);
}
