import { parseArgs } from 'node:util';
import { startServer, type ServerOptions } from '@tessera/server';
import { TesseraError } from '@tessera/core';

/** One `tessera serve` setting: its flag, env var and how to read it. */
interface Setting {
  readonly flag: string;
  readonly key: keyof ServerOptions;
  readonly kind: 'string' | 'int';
  readonly help: string;
}

/** Every `tessera serve` flag; each is also `TESSERA_<NAME>` (upper case, dashes → underscores). */
export const SERVE_SETTINGS: readonly Setting[] = [
  { flag: 'host', key: 'host', kind: 'string', help: 'interface to bind (default 127.0.0.1)' },
  { flag: 'port', key: 'port', kind: 'int', help: 'port, 0 = pick a free one (default 8080)' },
  {
    flag: 'data-dir',
    key: 'dataDir',
    kind: 'string',
    help: 'data folder: SQLite database and master key (default ./.tessera)',
  },
  {
    flag: 'store',
    key: 'store',
    kind: 'string',
    help: "'sqlite:<path>' or 'postgres://…' (default sqlite:<data-dir>/tessera.db)",
  },
  {
    flag: 'primary-key',
    key: 'primaryKey',
    kind: 'string',
    help: 'seed the primary access key on first start (base64)',
  },
  {
    flag: 'secondary-key',
    key: 'secondaryKey',
    kind: 'string',
    help: 'seed the secondary access key on first start (base64)',
  },
  {
    flag: 'resource-id',
    key: 'resourceId',
    kind: 'string',
    help: 'resource id (uuid) on first start (default random)',
  },
  { flag: 'location', key: 'location', kind: 'string', help: 'data location on first start (default unitedstates)' },
  { flag: 'issuer', key: 'issuer', kind: 'string', help: 'token issuer (default urn:tessera:resource:<resourceId>)' },
  { flag: 'audience', key: 'audience', kind: 'string', help: 'token audience (default urn:tessera:user-access)' },
  {
    flag: 'public-url',
    key: 'publicUrl',
    kind: 'string',
    help: 'endpoint printed in connection strings (default http://<host>:<port>/)',
  },
  {
    flag: 'master-key',
    key: 'masterKey',
    kind: 'string',
    help: 'base64 32-byte key encrypting secrets at rest (default <data-dir>/master.key)',
  },
  {
    flag: 'max-clock-skew',
    key: 'maxClockSkewSeconds',
    kind: 'int',
    help: 'HMAC x-ms-date replay window in seconds (default 900)',
  },
  { flag: 'body-limit', key: 'bodyLimit', kind: 'int', help: 'largest request body in bytes (default 65536)' },
  {
    flag: 'rate-limit',
    key: 'rateLimit',
    kind: 'string',
    help: "per-credential limits: 'acs' (default: create/issue 1000/30s, revoke/delete/exchange 500/30s), 'off', or 'issue=5000/30,create=off'",
  },
  {
    flag: 'poll-ms',
    key: 'pollMs',
    kind: 'int',
    help: 'safety-net poll of the shared event log for changes by other processes, ms (default 1000)',
  },
  {
    flag: 'log-level',
    key: 'logLevel',
    kind: 'string',
    help: 'fatal|error|warn|info|debug|trace|silent (default info)',
  },
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `TESSERA_DATA_DIR` for `data-dir`. */
export function envName(flag: string): string {
  return `TESSERA_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Reads flags, then env vars, into server options. Throws `ERR_CONFIG_INVALID` naming the setting. */
export function parseServeArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ServerOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(SERVE_SETTINGS.map((s) => [s.flag, { type: 'string' as const }])),
    strict: true,
    allowPositionals: false,
  });
  const out: Record<string, string | number> = {};
  for (const s of SERVE_SETTINGS) {
    const raw = (values as Record<string, string | undefined>)[s.flag] ?? env[envName(s.flag)];
    if (raw === undefined) continue;
    if (s.kind === 'int') {
      if (!/^\d{1,9}$/.test(raw)) {
        throw new TesseraError(
          'ERR_CONFIG_INVALID',
          `Invalid --${s.flag} (${envName(s.flag)}): must be a whole number.`,
          { target: s.flag },
        );
      }
      out[s.key] = Number(raw);
    } else {
      out[s.key] = raw;
    }
  }
  if (out.logLevel !== undefined && !LOG_LEVELS.includes(out.logLevel as (typeof LOG_LEVELS)[number])) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --log-level: must be one of ${LOG_LEVELS.join(', ')}.`, {
      target: 'log-level',
    });
  }
  return out as ServerOptions;
}

/** `tessera serve`: starts the server, prints the connection string, shuts down gracefully on SIGINT/SIGTERM. */
export async function serveCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const options = parseServeArgs(argv, env);
  const server = await startServer(options);
  process.stdout.write(
    `Tessera identity server listening on ${server.url}\n` +
      `Resource id: ${server.resourceId}${server.createdResource ? ' (created)' : ''}\n` +
      `Connection string: ${server.connectionString}\n` +
      `Verifier (read-only) connection string: ${server.verifierConnectionString}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Received ${signal}, draining in-flight requests…\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => {
        process.stdout.write('Stopped.\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
