import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type ChatLogger,
  type ChatStoreLocation,
  chatPlugin,
  openChatEventBus,
  createDeferredVerifier,
  createNodeFetch,
  openChatStore,
} from '@tessera/chat';
import { type RunningServer, type ServerOptions, resolveServerOptions } from '@tessera/server';
import { TesseraError } from '@tessera/core';
import { createNodeVerifier } from '@tessera/verifier/node';

/** The chat API mounted on `tessera serve`'s own endpoint. */
export interface ChatMount {
  /** For `ServerOptions.register`: opens the chat store and registers the plugin before the server listens. */
  register: NonNullable<ServerOptions['register']>;
  /** Once the server listens: verifies tokens against its own JWKS and revocation feed (loopback, its own CA). */
  attach(server: RunningServer): void;
}

/**
 * Where `tessera serve` keeps chat: beside the identity data — `<data-dir>/chat.db` next to the SQLite identity
 * store, or the same PostgreSQL database and schema (the chat tables have their own names).
 */
export function chatStoreBeside(options: ServerOptions): ChatStoreLocation {
  const resolved = resolveServerOptions(options);
  return resolved.store.kind === 'sqlite'
    ? { kind: 'sqlite', path: join(dirname(resolved.store.path), 'chat.db') }
    : { kind: 'postgres', url: resolved.store.url, schema: resolved.store.schema };
}

/**
 * Mounts `@tessera/chat` in `tessera serve`: same endpoint, same TLS, tokens verified by `@tessera/verifier`
 * exactly as a separate chat service would (JWKS and the revocation feed, read over the server's own socket with
 * the read-only verifier key) — no server internals are shared.
 */
export function createChatMount(options: ServerOptions, logger?: ChatLogger): ChatMount {
  const location = chatStoreBeside(options);
  const verifier = createDeferredVerifier();
  return {
    register: async (app) => {
      const opened = await openChatStore(location);
      // In-process beside SQLite; LISTEN/NOTIFY beside PostgreSQL, so a stream on any process hears every event.
      const events = await openChatEventBus(location).catch(async (error: unknown) => {
        await opened.close();
        throw error;
      });
      app.addHook('onClose', async () => {
        await verifier.close();
        await events.close();
        await opened.close();
      });
      await app.register(chatPlugin, {
        verifier,
        store: opened,
        events,
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
export function withChat(options: ServerOptions, logger?: ChatLogger): { options: ServerOptions; mount: ChatMount } {
  const mount = createChatMount(options, logger);
  return { options: { ...options, register: (app) => mount.register(app) }, mount };
}

/** `--chat on|off` (default on). Throws `ERR_CONFIG_INVALID` naming the setting for anything else. */
export function chatSwitch(value: string | undefined): boolean {
  if (value === undefined || /^(on|true|1|yes)$/i.test(value)) return true;
  if (/^(off|false|0|no)$/i.test(value)) return false;
  throw new TesseraError('ERR_CONFIG_INVALID', "Invalid --chat (TESSERA_CHAT): must be 'on' or 'off'.", {
    target: 'chat',
  });
}
