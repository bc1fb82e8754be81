import { base64ToBytes, parseConnectionString } from '@tessera/core';
import type { Verifier } from '@tessera/verifier';
import { createNodeVerifier } from '@tessera/verifier/node';
import { instrumentFastify, startMetricsListener } from '@tessera/metrics';
import Fastify from 'fastify';
import { chatPlugin } from '../chat-plugin.js';
import { ChatError, toChatErrorResponse } from '../errors.js';
import type { ChatEventBus } from '../events/event-bus.js';
import type { ChatEventStreamOptions } from '../events/events-route.js';
import { openChatEventBus } from '../events/open-chat-event-bus.js';
import type { ChatCorsOptions } from '../http/cors.js';
import { createNodeFetch } from '../http/node-fetch.js';
import { type ChatLogger, silentChatLogger } from '../logger.js';
import { type ChatMetrics, createChatMetrics } from '../metrics/chat-metrics.js';
import type { ChatDemoOptions } from '../demo/chat-demo-routes.js';
import { openPresenceStore } from '../presence/open-presence-store.js';
import type { PresenceStore } from '../presence/presence-store.js';
import { openRoomsStore } from '../rooms/open-rooms-store.js';
import type { RoomsAccessKey, RoomsDataAction } from '../rooms/rooms-auth.js';
import type { RoomsStore } from '../rooms/rooms-store.js';
import type { ChatStore } from '../store/chat-store.js';
import { type ChatStoreLocation, openChatStore } from './open-chat-store.js';

/** Options of {@link startChatService}. */
export interface ChatServiceOptions {
  /** The identity server whose tokens are accepted (`https://host:port/`): its JWKS and revocation feed. */
  readonly identityEndpoint: string;
  /** `endpoint=…;accesskey=…` signing the revocation feed request; the read-only verifier key is enough. */
  readonly connectionString: string;
  readonly store: ChatStoreLocation;
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default 8090; 0 picks a free port. */
  readonly port?: number | undefined;
  /** Serve HTTPS with this certificate chain and key (PEM text). The official SDK sends tokens over HTTPS only. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** A CA (PEM text) to trust when calling the identity server, e.g. its `--tls-dev` CA. */
  readonly identityCa?: string | undefined;
  /**
   * The Rooms API's own access key (base64, at least 32 bytes): it signs room management (`rooms/read`,
   * `rooms/write`, `rooms/decide`). Without it the Rooms API answers call decisions only: the connection string's
   * key (the identity server's read-only verifier key) holds `rooms/decide` and nothing else.
   */
  readonly roomsKey?: string | undefined;
  /** Where events go; default: in-process beside SQLite, LISTEN/NOTIFY beside PostgreSQL (openChatEventBus). */
  readonly events?: ChatEventBus | undefined;
  /** `GET /chat/events` settings, or `false` to leave the stream out (docs/chat-events.md). */
  readonly eventStream?: ChatEventStreamOptions | false | undefined;
  /** Serve the chat demo page at `/chat-demo/`, signing in at this token service (docs/chat.md#demo). */
  readonly demo?: ChatDemoOptions | undefined;
  /** Browser origins allowed to call the chat, presence and event-stream routes (CORS); default none. */
  readonly cors?: ChatCorsOptions | undefined;
  readonly logger?: ChatLogger | undefined;
  readonly clock?: (() => number) | undefined;
  /** Serve `GET /metrics` unauthenticated on a separate listener at this port (0 = a free one). Default: off. */
  readonly metricsPort?: number | undefined;
  /** Interface of the metrics listener. Default 127.0.0.1. */
  readonly metricsHost?: string | undefined;
  /** Record metrics here instead of a fresh registry (only used with `metricsPort`, or to read them in-process). */
  readonly metrics?: ChatMetrics | undefined;
}

/** A running standalone chat service. */
export interface RunningChatService {
  /** `https://host:port/` (or http without TLS). */
  readonly url: string;
  readonly verifier: Verifier;
  readonly store: ChatStore;
  /** With `metricsPort`: `http://host:port/metrics`. */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the chat data plane on its own: verifies tokens offline from the identity server's JWKS, follows its
 * revocation feed, keeps threads in its own store. Shares no code or process with the identity server.
 */
export async function startChatService(options: ChatServiceOptions): Promise<RunningChatService> {
  const logger = options.logger ?? silentChatLogger;
  const roomsKeys = chatServiceRoomsKeys(options);
  const store = await openChatStore(options.store);
  let events: ChatEventBus;
  let rooms: RoomsStore | undefined;
  let presence: PresenceStore | undefined;
  try {
    rooms = await openRoomsStore(options.store);
    presence = await openPresenceStore(options.store);
    events =
      options.events ??
      (await openChatEventBus(options.store, {
        onError: () => logger.warn('chat: the event bus failed (it reconnects)', {}),
      }));
  } catch (error) {
    await presence?.close();
    await rooms?.close();
    await store.close();
    throw error;
  }
  const roomsStore = rooms;
  const presenceStore = presence;
  const verifier = createNodeVerifier({
    endpoint: options.identityEndpoint,
    connectionString: options.connectionString,
    fetch: createNodeFetch({ ca: options.identityCa }),
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  // Metrics are collected only when served or asked for; otherwise the request path carries no hook.
  const metrics = options.metrics ?? (options.metricsPort === undefined ? undefined : createChatMetrics());
  let metricsUrl: string | undefined;
  let closeMetrics = async (): Promise<void> => {};
  const app = Fastify({
    logger: false,
    ...(options.tls === undefined ? {} : { https: { cert: options.tls.cert, key: options.tls.key } }),
  });
  try {
    if (metrics !== undefined) instrumentFastify(app, { metrics: metrics.requests, tracing: metrics.tracing });
    app.setNotFoundHandler((request, reply) => {
      const r = toChatErrorResponse(
        new ChatError('ERR_CHAT_ROUTE_NOT_FOUND', {
          message: `No chat route matches ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}.`,
        }),
      );
      return reply.code(r.status).type('application/json').send(r.body);
    });
    await app.register(chatPlugin, {
      verifier,
      store,
      logger,
      events,
      rooms: { store: roomsStore, accessKeys: () => roomsKeys },
      presence: { store: presenceStore },
      ...(options.eventStream === undefined ? {} : { eventStream: options.eventStream }),
      ...(options.demo === undefined ? {} : { demo: options.demo }),
      ...(options.cors === undefined ? {} : { cors: options.cors }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(metrics === undefined ? {} : { metrics }),
    });
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8090 });
    if (metrics !== undefined && options.metricsPort !== undefined) {
      const listener = await startMetricsListener({
        registry: metrics.registry,
        host: options.metricsHost ?? '127.0.0.1',
        port: options.metricsPort,
      });
      metricsUrl = listener.url;
      closeMetrics = listener.close;
    }
  } catch (error) {
    await app.close().catch(() => undefined);
    await verifier.close();
    await events.close();
    await presenceStore.close();
    await roomsStore.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 8090);
  const host = options.host === undefined || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    verifier,
    store,
    metricsUrl,
    close() {
      closing ??= (async () => {
        await closeMetrics();
        await app.close();
        await verifier.close();
        await events.close();
        await presenceStore.close();
        await roomsStore.close();
        await store.close();
      })();
      return closing;
    },
  };
}

const DECIDE_ONLY: ReadonlySet<RoomsDataAction> = new Set<RoomsDataAction>(['rooms/decide']);

/**
 * The keys the standalone Rooms API accepts: the connection string's key (the verifier key) for call decisions
 * only, and the Rooms key, when set, for everything. Throws `ERR_CHAT_VALIDATION` (target `rooms-key`) for a Rooms
 * key that is not base64 of at least 32 bytes, or that equals the connection string's key; never echoes a key.
 */
export function chatServiceRoomsKeys(
  options: Pick<ChatServiceOptions, 'connectionString' | 'roomsKey'>,
): readonly RoomsAccessKey[] {
  const verifierKey = parseConnectionString(options.connectionString).accessKey;
  const keys: RoomsAccessKey[] = [
    { name: 'verifier', secret: base64ToBytes(verifierKey) ?? new Uint8Array(), actions: DECIDE_ONLY },
  ];
  if (options.roomsKey !== undefined) {
    const secret = base64ToBytes(options.roomsKey.trim());
    if (secret === undefined || secret.length < 32) {
      throw new ChatError('ERR_CHAT_VALIDATION', {
        message: 'The Rooms key must be base64 of at least 32 bytes.',
        target: 'rooms-key',
      });
    }
    if (options.roomsKey.trim() === verifierKey) {
      throw new ChatError('ERR_CHAT_VALIDATION', {
        message: "The Rooms key must differ from the connection string's key (the read-only verifier key).",
        target: 'rooms-key',
      });
    }
    keys.push({ name: 'rooms', secret });
  }
  return Object.freeze(keys);
}
