import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ChatStoreLocation,
  chatCorsOrigin,
  chatServiceRoomsKeys,
  parseChatStoreLocation,
  startChatService,
} from '@tessera/chat';
import type { TesseraError } from '@tessera/core';
import { LOG_LEVELS, readLogLevel, readSettings, secretSetting, type SettingSpec } from './settings.js';
import { code, settingsUsage } from './settings-table.js';
import { stopOnSignals } from './stop-on-signals.js';

/** The defaults `tessera chat-service` applies itself (shown in its `--help` and docs/chat.md). */
const CHAT_SERVICE_DEFAULTS = { host: '127.0.0.1', port: 8090, dataDir: '.tessera-chat', logLevel: 'info' } as const;

/** Every `tessera chat-service` flag; each is also `TESSERA_CHAT_<NAME>` (upper case, dashes → underscores). Add a setting here. */
export const CHAT_SERVICE_SETTINGS: readonly SettingSpec[] = [
  {
    flag: 'identity-endpoint',
    kind: 'string',
    help: 'identity server URL whose JWKS and revocation feed are followed',
    default: "the connection string's `endpoint`",
    validation: 'a URL',
    more: 'e.g. an internal address',
  },
  {
    flag: 'connection-string',
    kind: 'string',
    help: 'identity server connection string for the revocation feed; the read-only verifier one is enough',
    default: 'required',
    more: 'its key signs the revocation feed request; the verifier connection string printed by `tessera serve` is recommended',
  },
  {
    flag: 'identity-ca',
    kind: 'string',
    help: 'PEM file of a CA to trust for the identity server (e.g. its --tls-dev CA)',
    default: 'system CAs',
  },
  {
    flag: 'rooms-key',
    kind: 'string',
    help: 'Rooms API access key for room management; without it the Rooms API answers call decisions only (verifier key)',
    default: 'none',
    validation: 'base64 of at least 32 bytes',
    more: 'room management with `RoomsClient`. See [Rooms](rooms.md#standalone-tessera-chat-service)',
  },
  {
    flag: 'rooms-key-file',
    kind: 'string',
    help: 'file holding --rooms-key (keeps it out of ps and shell history)',
    validation: 'not with `--rooms-key`',
  },
  {
    flag: 'cors-origin',
    kind: 'list',
    help: "browser origins allowed to call the chat, presence and event-stream APIs (CORS), comma-separated; '*' is any",
    default: 'none (same-origin pages only)',
    validation: '`scheme://host[:port]` or `*`',
    more: 'never the Rooms API. See [Browsers and CORS](#browsers-and-cors)',
  },
  { flag: 'host', kind: 'string', help: 'interface to bind', default: code(CHAT_SERVICE_DEFAULTS.host) },
  {
    flag: 'port',
    kind: 'int',
    help: 'port, 0 = pick a free one',
    default: code(CHAT_SERVICE_DEFAULTS.port),
    more: 'the real one is printed',
  },
  {
    flag: 'data-dir',
    kind: 'string',
    help: 'folder of the SQLite chat store',
    default: code(`./${CHAT_SERVICE_DEFAULTS.dataDir}`),
  },
  {
    flag: 'store',
    kind: 'string',
    help: "'sqlite:<path>' or 'postgres://…'",
    default: code('sqlite:<data-dir>/chat.db'),
    validation: '`sqlite:<path>` or `postgres://…[?schema=name]`',
  },
  {
    flag: 'synchronous',
    kind: 'string',
    help: "SQLite store: 'full' (group commit with an fsync: nothing acknowledged is lost) or 'normal' (no fsync)",
    default: code('full'),
    validation: '`full` or `normal`',
    more: 'see [Durability](#durability)',
  },
  {
    flag: 'tls-cert',
    kind: 'string',
    help: 'serve HTTPS with this certificate chain (PEM file); the SDK needs HTTPS',
    default: 'none (HTTP)',
    validation: 'with `--tls-key`',
  },
  {
    flag: 'tls-key',
    kind: 'string',
    help: 'private key of --tls-cert (PEM file)',
    validation: 'with `--tls-cert`',
  },
  {
    flag: 'log-level',
    kind: 'string',
    help: LOG_LEVELS.join('|'),
    default: code(CHAT_SERVICE_DEFAULTS.logLevel),
    validation: 'one of the levels',
    more: '`silent`, `fatal` and `error` keep the start-up lines quiet',
  },
  {
    flag: 'metrics-port',
    kind: 'int',
    help: 'serve GET /metrics (Prometheus) unauthenticated on this separate port, 0 = a free one',
    default: 'off',
    more: 'see [Operations](operations.md#chat-service-metrics)',
  },
  {
    flag: 'metrics-host',
    kind: 'string',
    help: 'interface of the --metrics-port listener',
    default: code('127.0.0.1'),
  },
];

/** `TESSERA_CHAT_PORT` for `port`. */
export function chatServiceEnvName(flag: string): string {
  return `TESSERA_CHAT_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The usage lines of `tessera chat-service`. */
export const CHAT_SERVICE_USAGE = `  chat-service       start the ACS Chat API alone, verifying tokens of an identity server offline
${settingsUsage(CHAT_SERVICE_SETTINGS, chatServiceEnvName)}`;

function readPem(path: string, flag: string, invalid: (flag: string, message: string) => TesseraError): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw invalid(flag, `cannot read '${path}'.`);
  }
}

/** Parses `tessera chat-service` settings into `startChatService` options. Throws `ERR_CONFIG_INVALID` naming the flag. */
export function parseChatServiceArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Parameters<typeof startChatService>[0] & { readonly quiet: boolean } {
  const settings = readSettings(argv, env, CHAT_SERVICE_SETTINGS, chatServiceEnvName);
  const { str, int, invalid } = settings;
  const connectionString = str('connection-string');
  if (connectionString === undefined) throw invalid('connection-string', 'is required.');
  const endpointMatch = /(?:^|;)\s*endpoint=([^;]+)/i.exec(connectionString);
  const identityEndpoint = str('identity-endpoint') ?? endpointMatch?.[1]?.trim();
  if (identityEndpoint === undefined)
    throw invalid('identity-endpoint', 'is required (or an endpoint= in --connection-string).');
  try {
    new URL(identityEndpoint);
  } catch {
    throw invalid('identity-endpoint', 'must be a URL.');
  }
  const certPath = str('tls-cert');
  const keyPath = str('tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw invalid('tls-cert', 'needs --tls-key (and back).');
  let store: ChatStoreLocation;
  try {
    store = parseChatStoreLocation(
      str('store') ?? `sqlite:${join(str('data-dir') ?? CHAT_SERVICE_DEFAULTS.dataDir, 'chat.db')}`,
    );
  } catch (error) {
    throw invalid('store', error instanceof Error ? error.message : 'is invalid.');
  }
  const synchronous = str('synchronous')?.toLowerCase();
  if (synchronous !== undefined && synchronous !== 'full' && synchronous !== 'normal') {
    throw invalid('synchronous', "must be 'full' or 'normal'.");
  }
  if (synchronous !== undefined && store.kind === 'sqlite') store = { ...store, synchronous };
  const roomsKey = secretSetting(settings, 'rooms-key');
  if (roomsKey !== undefined) {
    try {
      chatServiceRoomsKeys({ connectionString, roomsKey });
    } catch (error) {
      const fromFile = str('rooms-key-file') !== undefined;
      throw invalid(
        fromFile ? 'rooms-key-file' : 'rooms-key',
        error instanceof Error ? lowerFirst(error.message) : 'is invalid.',
      );
    }
  }
  let corsOrigins: string[];
  try {
    corsOrigins = settings.list('cors-origin').map(chatCorsOrigin);
  } catch (error) {
    throw invalid('cors-origin', error instanceof Error ? error.message : 'is not an origin.');
  }
  const caPath = str('identity-ca');
  const level = readLogLevel(settings);
  return {
    identityEndpoint,
    connectionString,
    roomsKey,
    store,
    host: str('host') ?? CHAT_SERVICE_DEFAULTS.host,
    port: int('port') ?? CHAT_SERVICE_DEFAULTS.port,
    tls:
      certPath === undefined || keyPath === undefined
        ? undefined
        : { cert: readPem(certPath, 'tls-cert', invalid), key: readPem(keyPath, 'tls-key', invalid) },
    identityCa: caPath === undefined ? undefined : readPem(caPath, 'identity-ca', invalid),
    metricsPort: int('metrics-port'),
    metricsHost: str('metrics-host'),
    cors: corsOrigins.length === 0 ? undefined : { origins: corsOrigins },
    quiet: level === 'silent' || level === 'fatal' || level === 'error',
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** `tessera chat-service`: starts the chat API alone and stops it gracefully on SIGINT/SIGTERM. */
export async function chatServiceCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { quiet, ...options } = parseChatServiceArgs(argv, env);
  const logger = {
    info: (message: string) => void (quiet ? undefined : process.stdout.write(`${message}\n`)),
    warn: (message: string) => void process.stderr.write(`${message}\n`),
    error: (message: string) => void process.stderr.write(`${message}\n`),
  };
  const service = await startChatService({ ...options, logger });
  process.stdout.write(
    `Tessera chat service listening on ${service.url}\n` +
      `Verifying tokens of ${options.identityEndpoint} (JWKS and revocation feed)\n` +
      (service.metricsUrl === undefined ? '' : `Metrics at ${service.metricsUrl}\n`),
  );
  stopOnSignals(() => service.close());
}
