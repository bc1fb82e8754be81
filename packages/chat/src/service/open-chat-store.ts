import { ChatError } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';
import { createPostgresChatStore } from '../store/postgres-chat-store.js';
import { createSqliteChatStore } from '../store/sqlite-chat-store.js';
import { migrateOrClose } from './migrate-or-close.js';

/** Where chat data lives: a SQLite file, or a PostgreSQL database (and schema) shared by many processes. */
export type ChatStoreLocation =
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      /** `full` (default): an fsync per group commit, nothing acknowledged is lost; `normal`: the opt-out. */
      readonly synchronous?: 'full' | 'normal' | undefined;
    }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string | undefined };

/**
 * Parses a `--store` value as the identity server does: `sqlite:<path>`, or `postgres://…` with an optional
 * `?schema=name` (Tessera's own parameter, taken off the URL before the driver sees it).
 */
export function parseChatStoreLocation(value: string): ChatStoreLocation {
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '')
      throw new ChatError('ERR_CHAT_VALIDATION', { message: "'sqlite:' needs a path.", target: 'store' });
    return { kind: 'sqlite', path };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ChatError('ERR_CHAT_VALIDATION', { message: 'The PostgreSQL URL is malformed.', target: 'store' });
    }
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.toString(), schema };
  }
  throw new ChatError('ERR_CHAT_VALIDATION', {
    message: "The store must be 'sqlite:<path>' or 'postgres://…'.",
    target: 'store',
  });
}

/** Opens (and migrates) the chat store at `location`. */
export async function openChatStore(location: ChatStoreLocation): Promise<ChatStore> {
  const store =
    location.kind === 'sqlite'
      ? createSqliteChatStore({ path: location.path, synchronous: location.synchronous })
      : createPostgresChatStore({ connectionString: location.url, schema: location.schema });
  return migrateOrClose(store);
}
