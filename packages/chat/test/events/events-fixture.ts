// A real identity server and a standalone chat service for the event tests, with a raw JSON caller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { type RunningServer, startServer } from '@tessera/server';
import {
  type ChatServiceOptions,
  type RunningChatService,
  startChatService,
} from '../../src/service/start-chat-service.js';

/** What {@link startEventsFixture} started. */
export interface EventsFixture {
  readonly dir: string;
  readonly identityServer: RunningServer;
  readonly chat: RunningChatService;
  readonly identity: CommunicationIdentityClient;
  /** A chat API call with a bearer token (api-version 2025-03-15), JSON in and out. */
  call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> | undefined }>;
  close(): Promise<void>;
}

/** Starts the identity server and a chat service (on SQLite unless `extra.store`) in a fresh temp dir. */
export async function startEventsFixture(
  extra: Partial<Omit<ChatServiceOptions, 'identityEndpoint' | 'connectionString'>> = {},
): Promise<EventsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-events-'));
  const identityServer = await startServer({ port: 0, logLevel: 'silent', dataDir: join(dir, 'identity') });
  const chat = await startChatService({
    identityEndpoint: identityServer.url,
    connectionString: identityServer.verifierConnectionString,
    store: { kind: 'sqlite', path: join(dir, 'chat.db') },
    port: 0,
    ...extra,
  });
  const identity = new CommunicationIdentityClient(identityServer.connectionString, { allowInsecureConnection: true });
  return {
    dir,
    identityServer,
    chat,
    identity,
    async call(token, method, path, body) {
      const r = await fetch(new URL(`${path}${path.includes('?') ? '&' : '?'}api-version=2025-03-15`, chat.url), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined
            ? {}
            : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
    },
    async close() {
      await chat.close();
      await identityServer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
