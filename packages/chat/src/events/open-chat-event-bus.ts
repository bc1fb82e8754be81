import type { ChatStoreLocation } from '../service/open-chat-store.js';
import type { ChatEventBus } from './event-bus.js';
import { createInProcessEventBus } from './in-process-event-bus.js';
import { createPostgresEventBus } from './postgres-event-bus.js';

/** Options of {@link openChatEventBus}. */
export interface OpenChatEventBusOptions {
  /** Told of transport failures and listener throws (never with a token or message content). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * The event bus that matches a chat store: in-process beside SQLite (one process), LISTEN/NOTIFY on the same
 * database and schema beside PostgreSQL (every process on the store hears every event). Resolves once listening.
 */
export async function openChatEventBus(
  location: ChatStoreLocation,
  options: OpenChatEventBusOptions = {},
): Promise<ChatEventBus> {
  if (location.kind === 'sqlite') {
    return createInProcessEventBus(options.onError === undefined ? {} : { onListenerError: options.onError });
  }
  const bus = createPostgresEventBus({
    connectionString: location.url,
    schema: location.schema,
    onError: options.onError,
  });
  try {
    await bus.ready();
  } catch (error) {
    await bus.close();
    throw error;
  }
  return bus;
}
