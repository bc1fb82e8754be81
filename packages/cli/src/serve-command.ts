import { setFlagsFromString } from 'node:v8';
import { SERVER_DEFAULTS as D, SERVER_LIMITS as L, startServer, type ServerOptions } from '@tessera/server';
import { chatCorsSetting, chatSwitch, chatSynchronousSetting, withChat } from './chat-mount.js';
import { LOG_LEVELS, readLogLevel, readSettings, type SettingSpec } from './settings.js';
import { code, range, settingsUsage } from './settings-table.js';
import { stopOnSignals } from './stop-on-signals.js';

/** Options of `tessera serve` itself, beside the server's. */
interface ServeCliOptions {
  /** Print the full-control connection strings even though the resource already existed. */
  printConnectionStrings?: boolean;
  /** `on` (default) or `off`: mount the ACS Chat API (`@tessera/chat`) on the server's endpoint. */
  chat?: string;
  /** `full` (default) or `normal`: the SQLite chat store's durability (docs/chat.md, "Durability"). */
  chatSynchronous?: string;
  /** Browser origins allowed to call the mounted chat API (CORS); default none. */
  chatCorsOrigin?: string[];
}

/** One `tessera serve` setting: its flag, env var, how to read it, and the option it sets. */
interface Setting extends SettingSpec {
  readonly key: keyof ServerOptions | keyof ServeCliOptions;
}

/** Every `tessera serve` flag; each is also `TESSERA_<NAME>` (upper case, dashes → underscores). Add a setting here. */
export const SERVE_SETTINGS: readonly Setting[] = [
  {
    flag: 'host',
    key: 'host',
    kind: 'string',
    help: 'interface to bind',
    default: code(D.host),
    validation: 'a host name or IP address',
  },
  {
    flag: 'port',
    key: 'port',
    kind: 'int',
    help: 'port, 0 = pick a free one',
    default: code(D.port),
    validation: range(L.port),
    more: 'the printed connection string shows the real one',
  },
  {
    flag: 'data-dir',
    key: 'dataDir',
    kind: 'string',
    help: 'data folder: SQLite database and master key',
    default: code(`./${D.dataDir}`),
    validation: 'not empty',
  },
  {
    flag: 'store',
    key: 'store',
    kind: 'string',
    help: "'sqlite:<path>' or 'postgres://…'",
    default: code('sqlite:<data-dir>/tessera.db'),
    validation: '`sqlite:<path>` or `postgres://user@host:port/db[?schema=name]`',
  },
  {
    flag: 'store-timeout',
    key: 'storeTimeoutMs',
    kind: 'int',
    help: 'bound of one store call in ms; past it the request answers 503 ERR_STORE_UNAVAILABLE',
    default: code(D.storeTimeoutMs),
    validation: range(L.storeTimeoutMs),
    more: 'with `Retry-After` (see [Store faults](store-faults.md))',
  },
  {
    flag: 'primary-key',
    key: 'primaryKey',
    kind: 'string',
    help: 'seed the primary access key on first start (base64)',
    default: 'random 64 bytes',
    validation: 'base64 of at least 32 bytes',
  },
  {
    flag: 'secondary-key',
    key: 'secondaryKey',
    kind: 'string',
    help: 'seed the secondary access key on first start (base64)',
    default: 'random 64 bytes',
    validation: 'base64 of at least 32 bytes',
  },
  {
    flag: 'primary-key-file',
    key: 'primaryKeyFile',
    kind: 'string',
    help: 'file holding --primary-key (keeps the key out of ps and shell history)',
    validation: 'not with `--primary-key`',
  },
  {
    flag: 'secondary-key-file',
    key: 'secondaryKeyFile',
    kind: 'string',
    help: 'file holding --secondary-key',
    validation: 'not with `--secondary-key`',
  },
  {
    flag: 'print-connection-strings',
    key: 'printConnectionStrings',
    kind: 'bool',
    help: 'print the connection strings at every start, not only the first (when the resource is created)',
    default: 'off',
    more: 'later starts say how to get them (see [Secrets hygiene](troubleshooting.md#secrets-hygiene))',
  },
  {
    flag: 'chat',
    key: 'chat',
    kind: 'string',
    help: "'on' mounts the ACS Chat and Rooms APIs on this endpoint (docs/chat.md), 'off' leaves them out",
    default: code('on'),
    validation: '`on` or `off`',
    more:
      'Chat at `/chat/threads…` (`@azure/communication-chat`), Rooms at `/rooms…` (`@azure/communication-rooms`, ' +
      "this server's access keys and role assignments, see [Rooms](rooms.md#in-tessera-serve-mounted-the-default)), " +
      'the store beside the identity store. The SDK sends tokens over HTTPS only: use `--tls-dev` or `--tls-cert` ' +
      '(see [Chat](chat.md))',
  },
  {
    flag: 'chat-synchronous',
    key: 'chatSynchronous',
    kind: 'string',
    help: "SQLite chat store: 'full' group-commits with an fsync, nothing acknowledged is lost; 'normal' skips the fsync (power loss may lose the last messages)",
    default: code('full'),
    validation: '`full` or `normal`',
    more: 'no effect on PostgreSQL. See [Chat](chat.md#durability)',
  },
  {
    flag: 'chat-cors-origin',
    key: 'chatCorsOrigin',
    kind: 'list',
    help: "browser origins allowed to call the chat, presence and event-stream APIs (CORS), comma-separated; '*' is any",
    default: 'none (same-origin pages only)',
    validation: '`scheme://host[:port]` or `*`',
    more: 'never the Rooms API. See [Browsers and CORS](chat.md#browsers-and-cors)',
  },
  {
    flag: 'resource-id',
    key: 'resourceId',
    kind: 'string',
    help: 'resource id (uuid) on first start',
    default: 'random uuid',
    validation: 'a UUID',
    more: 'appears in every identity id',
  },
  {
    flag: 'location',
    key: 'location',
    kind: 'string',
    help: 'data location on first start',
    default: code(D.location),
    validation: 'lower-case name (`[a-z][a-z0-9-]{1,40}`)',
    more: '`resourceLocation` claim; `rgn` derived',
  },
  {
    flag: 'issuer',
    key: 'issuer',
    kind: 'string',
    help: 'token issuer',
    default: code('urn:tessera:resource:<resourceId>'),
  },
  { flag: 'audience', key: 'audience', kind: 'string', help: 'token audience', default: code(D.audience) },
  {
    flag: 'public-url',
    key: 'publicUrl',
    kind: 'string',
    help: 'endpoint printed in connection strings',
    default: code('http://<host>:<port>/'),
    validation: '`http(s)://host[:port]/`, no path',
    more: 'and discovery (behind a proxy)',
  },
  {
    flag: 'master-key',
    key: 'masterKey',
    kind: 'string',
    help: 'base64 32-byte key encrypting secrets at rest',
    default: '`<data-dir>/master.key` (created, mode 0600)',
    validation: 'base64 of exactly 32 bytes',
    more: 'access keys and signing keys',
  },
  {
    flag: 'master-key-file',
    key: 'masterKeyFile',
    kind: 'string',
    help: 'file holding the master key (base64, 32 bytes) instead of --master-key',
    validation: 'not with `--master-key`',
    more: '[Key rotation](key-rotation.md)',
  },
  {
    flag: 'previous-master-key-file',
    key: 'previousMasterKeyFile',
    kind: 'string',
    help: 'file holding the previous master key while rotating it: still read, secrets re-sealed at start',
    validation: 'base64 of 32 bytes',
    more: '[Key rotation](key-rotation.md)',
  },
  {
    flag: 'audit-retention',
    key: 'auditRetentionDays',
    kind: 'int',
    help: 'days the audit log is kept, 0 = for ever',
    default: code(D.auditRetentionDays),
    validation: range(L.auditRetentionDays),
    more: '[State and retention](state-and-retention.md)',
  },
  {
    flag: 'max-clock-skew',
    key: 'maxClockSkewSeconds',
    kind: 'int',
    help: 'HMAC x-ms-date replay window in seconds',
    default: code(D.maxClockSkewSeconds),
    validation: range(L.maxClockSkewSeconds),
  },
  {
    flag: 'body-limit',
    key: 'bodyLimit',
    kind: 'int',
    help: 'largest request body in bytes',
    default: code(D.bodyLimit),
    validation: range(L.bodyLimit),
    more: '413 above',
  },
  {
    flag: 'rate-limit',
    key: 'rateLimit',
    kind: 'string',
    help: "per-credential limits: 'acs' (create/issue 1000/30s, revoke/delete/exchange 500/30s), 'off', or 'issue=5000/30,create=off'",
    default: code(D.rateLimit),
    validation: '`acs`, `off` or `<operation>=<limit>/<seconds>|off,…`',
    more: 'over the limit → 429 with `Retry-After`',
  },
  {
    flag: 'poll-ms',
    key: 'pollMs',
    kind: 'int',
    help: 'safety-net poll of the shared event log for changes by other processes, ms',
    default: code(D.pollMs),
    validation: range(L.pollMs),
    more: 'PostgreSQL LISTEN/NOTIFY is the fast path',
  },
  {
    flag: 'signing',
    key: 'signing',
    kind: 'string',
    help: "where token signatures are computed: 'worker' (worker threads fed through shared memory) or 'threadpool'",
    default: code(D.signing),
    validation: '`worker` or `threadpool`',
    more:
      '`worker`: a ring of slots per thread, no message per token, each signature to the least busy thread; ' +
      "`threadpool`: one `crypto.sign` job per token on libuv's pool",
  },
  {
    flag: 'signing-threads',
    key: 'signingThreads',
    kind: 'int',
    help: 'signing worker threads with --signing worker',
    default: code(D.signingThreads),
    validation: range(L.signingThreads),
    more:
      'each is a V8 isolate of ~10 MB and starts only under load. One signs ~27k tokens/s on these machines, more ' +
      'than one event loop asks; more help only where the event loop outruns one',
  },
  {
    flag: 'log-level',
    key: 'logLevel',
    kind: 'string',
    help: LOG_LEVELS.join('|'),
    default: code(D.logLevel),
    validation: 'one of the levels',
  },
  {
    flag: 'tls-cert',
    key: 'tlsCert',
    kind: 'string',
    help: 'serve HTTPS with this certificate chain (PEM file)',
    validation: 'with `--tls-key`, not with `--tls-dev`',
  },
  {
    flag: 'tls-key',
    key: 'tlsKey',
    kind: 'string',
    help: 'private key of --tls-cert (PEM file)',
    validation: 'with `--tls-cert`',
  },
  {
    flag: 'tls-dev',
    key: 'tlsDev',
    kind: 'bool',
    help: 'serve HTTPS with a development CA + localhost certificate made in <data-dir>/tls on first start',
    default: 'off',
    more: 'for localhost, 127.0.0.1 and ::1 (see [Entra ID / OpenID Connect](entra-oidc.md#tls))',
  },
  {
    flag: 'trusted-issuers',
    key: 'trustedIssuers',
    kind: 'string',
    help: 'JSON file (or inline JSON) of trusted OpenID Connect issuers for bearer auth and the token exchange',
    default: 'none',
  },
  {
    flag: 'trusted-issuer',
    key: 'trustedIssuer',
    kind: 'list',
    help: 'a trusted OpenID Connect issuer URL (repeatable; discovery, default audiences)',
    default: 'none',
    validation: 'not also in `--trusted-issuers`',
  },
  {
    flag: 'metrics-port',
    key: 'metricsPort',
    kind: 'int',
    help: 'serve GET /metrics (Prometheus) unauthenticated on this separate port, 0 = pick a free one',
    default: 'off',
    validation: `${range(L.metricsPort)}, not \`--port\``,
    more: 'metrics are collected only when served somewhere (see [Operations](operations.md#access))',
  },
  {
    flag: 'metrics-host',
    key: 'metricsHost',
    kind: 'string',
    help: 'interface of the --metrics-port listener',
    default: code(D.metricsHost),
    validation: 'with `--metrics-port`',
    more: 'keep it where only the scraper reaches it',
  },
  {
    flag: 'metrics-api',
    key: 'metricsApi',
    kind: 'bool',
    help: 'also serve GET /metrics on the main port to callers holding metrics/read (verifier key, metrics-reader role)',
    default: 'off',
    more: 'a full-control key or a bearer principal with the `metrics-reader` role also holds it',
  },
];

/** `TESSERA_DATA_DIR` for `data-dir`. */
export function envName(flag: string): string {
  return `TESSERA_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The usage lines of `tessera serve`. */
export function serveUsage(): string {
  return `  serve              start the identity server\n${settingsUsage(SERVE_SETTINGS, envName)}`;
}

/** Reads flags, then env vars, into server options. Throws `ERR_CONFIG_INVALID` naming the setting. */
export function parseServeArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ServerOptions & ServeCliOptions {
  const settings = readSettings(argv, env, SERVE_SETTINGS, envName);
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const s of SERVE_SETTINGS) {
    const value =
      s.kind === 'bool'
        ? settings.bool(s.flag)
        : s.kind === 'int'
          ? settings.int(s.flag)
          : s.kind === 'list'
            ? settings.list(s.flag)
            : settings.str(s.flag);
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) out[s.key] = value;
  }
  readLogLevel(settings);
  return out as ServerOptions & ServeCliOptions;
}

/** V8's old-generation growth between full collections that `tessera serve` sets (docs/scaling.md, memory). */
export const SERVE_HEAP_GROWING_PERCENT = 50;

/**
 * Under sustained load V8 lets the old generation grow to ~4× its live size between full collections (the
 * collections are cheap, so it can): at 1M identities, 20 MB live swung to 80 MB, and RSS with it. Growing by 50 %
 * keeps that garbage bounded (RSS right after load 141–172 → ~120 MB, no measurable throughput cost; bench/README.md).
 * The only such V8 setting that can still be changed once the process runs; a `--heap-growing-percent` given to
 * node itself wins.
 */
export function boundHeapGrowth(execArgv: readonly string[]): boolean {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) {
    return false;
  }
  setFlagsFromString(`--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`);
  return true;
}

/**
 * The banner's key lines. Full-control connection strings are printed when the resource is created (the only time
 * the operator can learn them otherwise) or when asked; later starts say how to get them, so restarts do not leave
 * keys in terminal scrollback and log collectors.
 */
export function connectionStringLines(
  server: {
    readonly createdResource: boolean;
    readonly connectionString: string;
    readonly verifierConnectionString: string;
  },
  asked: boolean,
): string {
  if (server.createdResource || asked) {
    return (
      `Connection string: ${server.connectionString}\n` +
      `Verifier (read-only) connection string: ${server.verifierConnectionString}\n`
    );
  }
  return (
    'Connection strings are printed on the first start only. To see them: tessera keys list (with\n' +
    '  TESSERA_CONNECTION_STRING or --connection-string-file), or start once with --print-connection-strings.\n'
  );
}

/** `tessera serve`: starts the server, prints the connection string, shuts down gracefully on SIGINT/SIGTERM. */
export async function serveCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { printConnectionStrings, chat, chatSynchronous, chatCorsOrigin, ...serverOptions } = parseServeArgs(argv, env);
  const mounted = chatSwitch(chat)
    ? withChat(serverOptions, undefined, {
        synchronous: chatSynchronousSetting(chatSynchronous),
        corsOrigins: chatCorsSetting(chatCorsOrigin),
      })
    : undefined;
  const options = mounted?.options ?? serverOptions;
  boundHeapGrowth(process.execArgv);
  const server = await startServer(options);
  mounted?.mount.attach(server);
  process.stdout.write(
    `Tessera identity server listening on ${server.url}\n` +
      `Resource id: ${server.resourceId}${server.createdResource ? ' (created)' : ''}\n` +
      connectionStringLines(server, printConnectionStrings === true),
  );
  if (mounted !== undefined)
    process.stdout.write(
      `Chat API (ACS Chat, @azure/communication-chat): ${server.url}chat/threads\n` +
        `Rooms API (ACS Rooms, @azure/communication-rooms): ${server.url}rooms (HMAC with the connection string)\n`,
    );
  if (server.metricsUrl !== undefined) process.stdout.write(`Metrics (Prometheus): ${server.metricsUrl}\n`);
  if (server.devCaPath !== undefined) {
    process.stdout.write(
      `Development CA: ${server.devCaPath}\n` +
        `  Trust it in Node.js clients: NODE_EXTRA_CA_CERTS=${server.devCaPath}\n` +
        `  (curl --cacert ${server.devCaPath}; never trust it beyond this machine)\n`,
    );
  }
  stopOnSignals(() => server.close());
}
