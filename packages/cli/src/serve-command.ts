import { parseArgs } from 'node:util';
import { startServer, type ServerOptions } from '@tessera/server';
import { TesseraError } from '@tessera/core';

/** One `tessera serve` setting: its flag, env var and how to read it. */
interface Setting {
  readonly flag: string;
  readonly key: keyof ServerOptions;
  /** `bool` flags take no value (env: true/false/1/0); `list` flags repeat (env: comma-separated). */
  readonly kind: 'string' | 'int' | 'bool' | 'list';
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
  { flag: 'tls-cert', key: 'tlsCert', kind: 'string', help: 'serve HTTPS with this certificate chain (PEM file)' },
  { flag: 'tls-key', key: 'tlsKey', kind: 'string', help: 'private key of --tls-cert (PEM file)' },
  {
    flag: 'tls-dev',
    key: 'tlsDev',
    kind: 'bool',
    help: 'serve HTTPS with a development CA + localhost certificate made in <data-dir>/tls on first start',
  },
  {
    flag: 'trusted-issuers',
    key: 'trustedIssuers',
    kind: 'string',
    help: 'JSON file (or inline JSON) of trusted OpenID Connect issuers for bearer auth and the token exchange',
  },
  {
    flag: 'trusted-issuer',
    key: 'trustedIssuer',
    kind: 'list',
    help: 'a trusted OpenID Connect issuer URL (repeatable; discovery, default audiences)',
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
    options: Object.fromEntries(
      SERVE_SETTINGS.map((s) => [
        s.flag,
        s.kind === 'bool'
          ? { type: 'boolean' as const }
          : s.kind === 'list'
            ? { type: 'string' as const, multiple: true }
            : { type: 'string' as const },
      ]),
    ),
    strict: true,
    allowPositionals: false,
  });
  const out: Record<string, string | number | boolean | string[]> = {};
  const given = values as Record<string, string | boolean | string[] | undefined>;
  for (const s of SERVE_SETTINGS) {
    if (s.kind === 'bool') {
      const flag = given[s.flag];
      const fromEnv = env[envName(s.flag)];
      if (flag === true) out[s.key] = true;
      else if (fromEnv !== undefined && fromEnv !== '') {
        if (!/^(1|0|true|false|yes|no)$/i.test(fromEnv)) {
          throw new TesseraError('ERR_CONFIG_INVALID', `Invalid ${envName(s.flag)}: must be true or false.`, {
            target: s.flag,
          });
        }
        out[s.key] = /^(1|true|yes)$/i.test(fromEnv);
      }
      continue;
    }
    if (s.kind === 'list') {
      const flag = given[s.flag];
      const list = Array.isArray(flag)
        ? flag
        : (env[envName(s.flag)] ?? '')
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== '');
      if (list.length > 0) out[s.key] = list;
      continue;
    }
    const value = given[s.flag];
    const raw = typeof value === 'string' ? value : env[envName(s.flag)];
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
  if (server.devCaPath !== undefined) {
    process.stdout.write(
      `Development CA: ${server.devCaPath}\n` +
        `  Trust it in Node.js clients: NODE_EXTRA_CA_CERTS=${server.devCaPath}\n` +
        `  (curl --cacert ${server.devCaPath}; never trust it beyond this machine)\n`,
    );
  }
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
