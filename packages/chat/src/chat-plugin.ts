import type { Verifier } from '@tessera/verifier';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { type ChatDemoOptions, registerChatDemoRoutes } from './demo/chat-demo-routes.js';
import { ChatError, toChatErrorResponse } from './errors.js';
import type { ChatEventBus } from './events/event-bus.js';
import { type ChatEventStreamOptions, registerEventStreamRoutes } from './events/events-route.js';
import { createInProcessEventBus } from './events/in-process-event-bus.js';
import { type ChatCorsOptions, registerChatCors } from './http/cors.js';
import { type ChatLogger, silentChatLogger } from './logger.js';
import type { ChatMetrics } from './metrics/chat-metrics.js';
import { type PresenceOptions, registerPresenceRoutes } from './presence/presence-routes.js';
import { type RoomsOptions, registerRoomsRoutes } from './rooms/rooms-plugin.js';
import { registerChatRoutes } from './routes/chat-routes.js';
import type { ChatStore } from './store/chat-store.js';
import { CHAT_SUPPORTED_VERSIONS_HEADER } from './wire/api-versions.js';

/** Options of {@link chatPlugin}. */
export interface ChatPluginOptions {
  /**
   * Verifies user access tokens and answers capability questions (`@tessera/verifier`'s `createVerifier`, or
   * `createNodeVerifier` from `@tessera/verifier/node`). The plugin never closes it.
   */
  readonly verifier: Verifier;
  /** Where threads, participants, messages and receipts live (migrated by the caller). The plugin never closes it. */
  readonly store: ChatStore;
  /** Where changes are published for real-time subscribers. Default: a fresh in-process bus. */
  readonly events?: ChatEventBus | undefined;
  /** Now, Unix milliseconds. Default `Date.now`. */
  readonly clock?: (() => number) | undefined;
  /** Default: silent. */
  readonly logger?: ChatLogger | undefined;
  /** The ACS Rooms API and call decisions (docs/rooms.md); absent: no `/rooms` routes. */
  readonly rooms?: RoomsOptions | undefined;
  /** The chat demo page at `/chat-demo/` (docs/chat.md#demo); absent: none. */
  readonly demo?: ChatDemoOptions | undefined;
  /** Tessera's presence API (docs/presence.md); absent: no `/presence` routes. */
  readonly presence?: PresenceOptions | undefined;
  /** `GET /chat/events`, the per-user event stream (docs/chat-events.md); `false` leaves it out. Default: on. */
  readonly eventStream?: ChatEventStreamOptions | false | undefined;
  /**
   * Count messages, threads, rooms, call decisions, event streams and publish failures here (createChatMetrics).
   * Request counts are the host's: `startChatService` instruments its own app. Default: none.
   */
  readonly metrics?: ChatMetrics | undefined;
  /**
   * Browser origins allowed to call the chat, presence and event-stream routes from another origin (CORS,
   * docs/chat.md#browsers-and-cors); `'*'` is any. Never the Rooms API (server-to-server). Default: none, same-origin
   * pages only. An origin that is not `scheme://host[:port]` throws a `TypeError` at registration.
   */
  readonly cors?: ChatCorsOptions | undefined;
}

/** The resolved options every route module of the package receives (chat, rooms, presence, events). */
export interface ChatContext {
  readonly verifier: Verifier;
  readonly store: ChatStore;
  readonly events: ChatEventBus;
  readonly clock: () => number;
  readonly logger: ChatLogger;
  readonly metrics: ChatMetrics | undefined;
}

/** A route module: registers its routes on the plugin's (encapsulated) instance. */
export type ChatRouteModule = (app: FastifyInstance, context: ChatContext) => void | Promise<void>;

/** Route modules registered by {@link chatPlugin}, in order. Each feature (chat, rooms, presence) adds its own. */
const ROUTE_MODULES: readonly ChatRouteModule[] = [registerChatRoutes];

/** Resolves the plugin options, failing fast with the name of a missing one. */
export function resolveChatContext(options: ChatPluginOptions): ChatContext {
  if (options.verifier === undefined || typeof options.verifier.verify !== 'function') {
    throw new TypeError('chatPlugin: options.verifier is required (a @tessera/verifier Verifier).');
  }
  if (options.store === undefined || typeof options.store.getThread !== 'function') {
    throw new TypeError('chatPlugin: options.store is required (a ChatStore).');
  }
  const logger = options.logger ?? silentChatLogger;
  return {
    verifier: options.verifier,
    store: options.store,
    events:
      options.events ??
      createInProcessEventBus({
        onListenerError: (_error, event) => logger.warn('chat: an event listener threw', { type: event.type }),
      }),
    clock: options.clock ?? Date.now,
    logger,
    metrics: options.metrics,
  };
}

/**
 * The chat data plane as a Fastify plugin: the ACS Chat API under `/chat/…`, authorized per request through
 * the verifier. Encapsulated: its error handler and content-type parsers apply to its own routes only, so it can
 * be mounted beside the identity server's routes (`tessera serve`) or alone (`tessera chat-service`).
 */
export const chatPlugin: FastifyPluginAsync<ChatPluginOptions> = async (app, options) => {
  const context = resolveChatContext(options);
  // Our own JSON parsing (a host such as the identity server may parse bodies its own way): JSON and merge-patch
  // JSON only, any other type answers 415, a body that is not JSON answers 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      if (body === '') {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new ChatError('ERR_CHAT_BODY_MALFORMED'), undefined);
      }
    },
  );
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('api-supported-versions', CHAT_SUPPORTED_VERSIONS_HEADER);
    done();
  });
  if (options.cors !== undefined) registerChatCors(app, options.cors, options.presence !== undefined);
  app.setErrorHandler(async (error, _request, reply) => {
    const r = toChatErrorResponse(fastifyError(error));
    if (r.status >= 500) context.logger.error('chat: request failed', { status: r.status });
    return reply.code(r.status).headers(r.headers).type('application/json').send(r.body);
  });
  for (const register of ROUTE_MODULES) await register(app, context);
  if (options.rooms !== undefined) await registerRoomsRoutes(app, context, options.rooms);
  // Presence sees room mates too when rooms are mounted (issue 13: users who share a thread or a room).
  if (options.presence !== undefined) registerPresenceRoutes(app, context, options.presence, options.rooms?.store);
  if (options.demo !== undefined) registerChatDemoRoutes(app, options.demo);
  if (options.eventStream !== false) registerEventStreamRoutes(app, context, options.eventStream);
};

/** Fastify's own request errors (body parsing, size) as chat errors; everything else as thrown. */
function fastifyError(error: unknown): unknown {
  if (error instanceof ChatError || typeof error !== 'object' || error === null) return error;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ChatError('ERR_CHAT_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ChatError('ERR_CHAT_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ChatError('ERR_CHAT_BODY_MALFORMED');
    default:
      if ((error as { statusCode?: unknown }).statusCode === 400 && error instanceof SyntaxError) {
        return new ChatError('ERR_CHAT_BODY_MALFORMED');
      }
      return error;
  }
}
