import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type ChatLogger,
  type ChatStoreLocation,
  chatCorsOrigin,
  chatPlugin,
  createChatMetrics,
  openChatEventBus,
  createDeferredVerifier,
  createNodeFetch,
  openChatStore,
  openPresenceStore,
  openRoomsStore,
  ROOMS_DATA_ACTIONS,
  type RoomsAccessKey,
  type RoomsDataAction,
  type RoomsOptions,
} from '@tessera/chat';
import { type RunningServer, type ServerHostAccess, type ServerOptions, resolveServerOptions } from '@tessera/server';
import { TesseraError } from '@tessera/core';
import { createNodeVerifier } from '@tessera/verifier/node';

/** The chat and Rooms APIs mounted on `tessera serve`'s own endpoint. */
export interface ChatMount {
  /** For `ServerOptions.register`: opens the chat store and registers the plugin before the server listens. */
  register: NonNullable<ServerOptions['register']>;
  /** Once the server listens: verifies tokens against its own JWKS and revocation feed (loopback, its own CA). */
  attach(server: RunningServer): void;
}

/** Settings of the mount itself. */
export interface ChatMountOptions {
  /** SQLite chat store: `full` (default, nothing acknowledged is lost) or `normal` (`--chat-synchronous`). */
  readonly synchronous?: 'full' | 'normal' | undefined;
  /** Browser origins allowed to call the chat, presence and event routes (`--chat-cors-origin`); default none. */
  readonly corsOrigins?: readonly string[] | undefined;
}

/**
 * Where `tessera serve` keeps chat: beside the identity data — `<data-dir>/chat.db` next to the SQLite identity
 * store, or the same PostgreSQL database and schema (the chat tables have their own names).
 */
export function chatStoreBeside(options: ServerOptions, chat: ChatMountOptions = {}): ChatStoreLocation {
  const resolved = resolveServerOptions(options);
  return resolved.store.kind === 'sqlite'
    ? { kind: 'sqlite', path: join(dirname(resolved.store.path), 'chat.db'), synchronous: chat.synchronous }
    : { kind: 'postgres', url: resolved.store.url, schema: resolved.store.schema };
}

const ALL_ROOMS_ACTIONS: ReadonlySet<RoomsDataAction> = new Set(ROOMS_DATA_ACTIONS);
const DECIDE_ONLY: ReadonlySet<RoomsDataAction> = new Set<RoomsDataAction>(['rooms/decide']);

function isRoomsAction(action: string): action is RoomsDataAction {
  return (ROOMS_DATA_ACTIONS as readonly string[]).includes(action);
}

/**
 * The Rooms options of the mount, over the server's live credentials: the primary and secondary keys hold every
 * Rooms data action, the read-only verifier key `rooms/decide` only; bearer principals hold the `rooms/*` actions
 * of their role assignments on this server. Keys are read on every request, so a regenerated key stops at once.
 */
export function roomsOptionsFromHost(host: ServerHostAccess, store: RoomsOptions['store']): RoomsOptions {
  let seen: ReturnType<ServerHostAccess['accessKeys']> | undefined;
  let keys: readonly RoomsAccessKey[] = [];
  const bearer = host.bearer;
  return {
    store,
    accessKeys: () => {
      const current = host.accessKeys();
      if (current !== seen) {
        seen = current;
        keys = current.map((k) => ({
          name: k.name,
          secret: k.secret,
          actions: k.fullControl ? ALL_ROOMS_ACTIONS : DECIDE_ONLY,
        }));
      }
      return keys;
    },
    bearer:
      bearer === undefined
        ? undefined
        : async (token) => {
            const principal = await bearer(token);
            return {
              kind: 'bearer',
              issuer: principal.issuer,
              subject: principal.subject,
              actions: new Set([...principal.actions].filter(isRoomsAction)),
            };
          },
    maxClockSkewMs: host.maxClockSkewMs,
    publicHost: host.publicHost,
    resourceId: host.resourceId,
  };
}

/**
 * Mounts `@tessera/chat` in `tessera serve`: same endpoint, same TLS, tokens verified by `@tessera/verifier`
 * exactly as a separate chat service would (JWKS and the revocation feed, read over the server's own socket with
 * the read-only verifier key) — no server internals are shared.
 */
export function createChatMount(options: ServerOptions, logger?: ChatLogger, chat?: ChatMountOptions): ChatMount {
  const location = chatStoreBeside(options, chat);
  const verifier = createDeferredVerifier();
  return {
    register: async (app, host) => {
      const opened = await openChatStore(location);
      let rooms: Awaited<ReturnType<typeof openRoomsStore>> | undefined;
      let presence: Awaited<ReturnType<typeof openPresenceStore>> | undefined;
      let events: Awaited<ReturnType<typeof openChatEventBus>>;
      try {
        // The rooms and presence tables beside the chat tables (same file or schema).
        rooms = await openRoomsStore(location);
        presence = await openPresenceStore(location);
        // In-process beside SQLite; LISTEN/NOTIFY beside PostgreSQL, so a stream on any process hears every event.
        events = await openChatEventBus(location);
      } catch (error) {
        await presence?.close();
        await rooms?.close();
        await opened.close();
        throw error;
      }
      const roomsStore = rooms;
      const presenceStore = presence;
      app.addHook('onClose', async () => {
        await verifier.close();
        await events.close();
        await presenceStore.close();
        await roomsStore.close();
        await opened.close();
      });
      await app.register(chatPlugin, {
        verifier,
        store: opened,
        events,
        rooms: roomsOptionsFromHost(host, roomsStore),
        presence: { store: presenceStore },
        ...(chat?.corsOrigins === undefined || chat.corsOrigins.length === 0
          ? {}
          : { cors: { origins: chat.corsOrigins } }),
        // The chat counters on the server's own /metrics; its hook already counts the chat routes as requests.
        ...(host.metricsRegistry === undefined
          ? {}
          : { metrics: createChatMetrics(host.metricsRegistry, { requests: false }) }),
        ...(logger === undefined ? {} : { logger }),
      });
    },
    attach(server) {
      verifier.attach(
        createNodeVerifier({
          connectionString: server.verifierConnectionString,
          fetch: createNodeFetch({
            ca: server.devCaPath === undefined ? undefined : readFileSync(server.devCaPath, 'utf8'),
          }),
          ...(logger === undefined ? {} : { logger }),
        }),
      );
    },
  };
}

/** `startServer` options with the chat API mounted, and the call that finishes the mount once the server listens. */
export function withChat(
  options: ServerOptions,
  logger?: ChatLogger,
  chat?: ChatMountOptions,
): { options: ServerOptions; mount: ChatMount } {
  const mount = createChatMount(options, logger, chat);
  return { options: { ...options, register: (app, host) => mount.register(app, host) }, mount };
}

/** `--chat on|off` (default on). Throws `ERR_CONFIG_INVALID` naming the setting for anything else. */
export function chatSwitch(value: string | undefined): boolean {
  if (value === undefined || /^(on|true|1|yes)$/i.test(value)) return true;
  if (/^(off|false|0|no)$/i.test(value)) return false;
  throw new TesseraError('ERR_CONFIG_INVALID', "Invalid --chat (TESSERA_CHAT): must be 'on' or 'off'.", {
    target: 'chat',
  });
}

/** `--chat-synchronous full|normal` (default full). Throws `ERR_CONFIG_INVALID` naming the setting for anything else. */
export function chatSynchronousSetting(value: string | undefined): 'full' | 'normal' | undefined {
  if (value === undefined || /^(full|normal)$/i.test(value.trim())) {
    return value === undefined ? undefined : (value.trim().toLowerCase() as 'full' | 'normal');
  }
  throw new TesseraError(
    'ERR_CONFIG_INVALID',
    "Invalid --chat-synchronous (TESSERA_CHAT_SYNCHRONOUS): must be 'full' or 'normal'.",
    { target: 'chat-synchronous' },
  );
}

/** `--chat-cors-origin` (repeatable, comma-separated): the origins, normalised. Throws `ERR_CONFIG_INVALID` naming it. */
export function chatCorsSetting(values: readonly string[] | undefined): string[] {
  try {
    return (values ?? []).map(chatCorsOrigin);
  } catch (error) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      `Invalid --chat-cors-origin (TESSERA_CHAT_CORS_ORIGIN): ${error instanceof Error ? error.message : 'not an origin.'}`,
      { target: 'chat-cors-origin' },
    );
  }
}
