// A standalone chat service over HTTPS beside a `tlsDev` identity server: it trusts the server's development CA and
// serves the server's development certificate (localhost / 127.0.0.1), with its SQLite store in `dir`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '@tessera/server';
import {
  type ChatServiceOptions,
  type RunningChatService,
  startChatService,
} from '../../src/service/start-chat-service.js';

/** Starts the chat service; `identityDataDir` is the identity server's data dir (its `tls/` holds the certificate). */
export function startTlsChatService(
  identityServer: RunningServer,
  identityDataDir: string,
  dir: string,
  extra: Partial<ChatServiceOptions> = {},
): Promise<RunningChatService> {
  const tls = join(identityDataDir, 'tls');
  return startChatService({
    identityEndpoint: identityServer.url,
    connectionString: identityServer.verifierConnectionString,
    identityCa: readFileSync(identityServer.devCaPath ?? '', 'utf8'),
    tls: {
      cert: readFileSync(join(tls, 'localhost.pem'), 'utf8'),
      key: readFileSync(join(tls, 'localhost.key'), 'utf8'),
    },
    store: { kind: 'sqlite', path: join(dir, 'chat.db') },
    port: 0,
    ...extra,
  });
}
