import type { ChatStoreLocation } from '../service/open-chat-store.js';
import { createPostgresRoomsStore } from './postgres-rooms-store.js';
import type { RoomsStore } from './rooms-store.js';
import { createSqliteRoomsStore } from './sqlite-rooms-store.js';
import { migrateOrClose } from '../service/migrate-or-close.js';

/**
 * Opens (and migrates) the rooms store at a chat store location: the same SQLite file or PostgreSQL database and
 * schema as the chat store (the rooms tables have their own names), so mounting Rooms needs no setting of its own.
 */
export async function openRoomsStore(location: ChatStoreLocation): Promise<RoomsStore> {
  const store =
    location.kind === 'sqlite'
      ? createSqliteRoomsStore({ path: location.path })
      : createPostgresRoomsStore({ connectionString: location.url, schema: location.schema });
  return migrateOrClose(store);
}
