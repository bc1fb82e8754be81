import {
  type DevOidcProvider,
  type StartTokenServiceOptions,
  type TrustedIssuer,
  startDevOidcProvider,
  startTokenService,
} from '@tessera/token-service';
import { readLogLevel, readSettings, type SettingSpec, secretSetting } from './settings.js';

/** One `tessera token-service` setting: its flag (also `TESSERA_TS_<NAME>`), kind and help. */
export type TokenServiceSetting = SettingSpec;

/** Every `tessera token-service` flag; each is also `TESSERA_TS_<NAME>` (upper case, dashes → underscores). */
export const TOKEN_SERVICE_SETTINGS: readonly TokenServiceSetting[] = [
  { flag: 'connection-string', kind: 'string', help: 'identity server connection string (endpoint=…;accesskey=…)' },
  { flag: 'endpoint', kind: 'string', help: 'identity server URL, with --bearer-token instead of a connection string' },
  { flag: 'bearer-token', kind: 'string', help: 'bearer token (Entra/OIDC) for the identity server' },
  { flag: 'connection-string-file', kind: 'string', help: 'file holding --connection-string (out of ps and history)' },
  { flag: 'bearer-token-file', kind: 'string', help: 'file holding --bearer-token' },
  { flag: 'policy', kind: 'string', help: 'least-privilege policy file (JSON), required' },
  { flag: 'host', kind: 'string', help: 'interface to bind (default 127.0.0.1)' },
  { flag: 'port', kind: 'int', help: 'port, 0 = pick a free one (default 8090)' },
  { flag: 'issuer', kind: 'list', help: "app users' OIDC issuer(s), comma-separated" },
  { flag: 'audience', kind: 'list', help: 'accepted app-token audience(s): API resource id or client id' },
  { flag: 'jwks-uri', kind: 'string', help: 'JWKS URL (default: from the issuer discovery document)' },
  { flag: 'anonymous', kind: 'bool', help: 'accept guests (needs a policy rule matching anonymous)' },
  { flag: 'cors-origin', kind: 'list', help: 'browser origins allowed to call the API, comma-separated' },
  { flag: 'data-dir', kind: 'string', help: 'SQLite database and key file (default ./.tessera/token-service)' },
  {
    flag: 'store',
    kind: 'string',
    help: "'sqlite:<path>' (default sqlite:<data-dir>/token-service.db) or 'postgres://…[?schema=name]' to run many instances",
  },
  { flag: 'encryption-key', kind: 'string', help: 'base64 32-byte AES-256-GCM key for the token cache' },
  { flag: 'encryption-key-file', kind: 'string', help: 'file holding --encryption-key' },
  { flag: 'ip-rate-limit', kind: 'string', help: "per client IP: '<limit>/<seconds>' or 'off' (default 120/60)" },
  {
    flag: 'user-rate-limit',
    kind: 'string',
    help: "per user or session: '<limit>/<seconds>' or 'off' (default 30/60)",
  },
  { flag: 'anonymous-per-ip-per-hour', kind: 'int', help: 'guest identities one IP may create per hour (default 20)' },
  { flag: 'body-limit', kind: 'int', help: 'largest request body in bytes (default 16384)' },
  { flag: 'trust-proxy', kind: 'bool', help: 'take client IPs from X-Forwarded-For (behind a proxy)' },
  { flag: 'demo', kind: 'bool', help: 'serve the demo page at /demo/' },
  { flag: 'dev-oidc', kind: 'bool', help: 'also start a development OIDC provider and trust it (implies --demo)' },
  { flag: 'log-level', kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  {
    flag: 'metrics-port',
    kind: 'int',
    help: 'serve GET /metrics (Prometheus) unauthenticated on this separate port, 0 = a free one (default off)',
  },
  { flag: 'metrics-host', kind: 'string', help: 'interface of the --metrics-port listener (default 127.0.0.1)' },
];

/** `TESSERA_TS_DATA_DIR` for `data-dir`. */
export function tokenServiceEnvName(flag: string): string {
  return `TESSERA_TS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The usage lines of `tessera token-service`. */
export const TOKEN_SERVICE_USAGE = `  token-service      start the trusted token service (app login → least-privilege user access tokens)
${TOKEN_SERVICE_SETTINGS.map((s) => `    --${s.flag.padEnd(26)} ${s.help} [${tokenServiceEnvName(s.flag)}]`).join('\n')}`;

/** Parsed `tessera token-service` settings. */
export interface TokenServiceArgs {
  readonly options: StartTokenServiceOptions;
  /** Start a development OIDC provider first and trust it. */
  readonly devOidc: boolean;
}

/** Reads flags, then `TESSERA_TS_*` env vars. Throws `ERR_CONFIG_INVALID` naming the setting. */
export function parseTokenServiceArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): TokenServiceArgs {
  const settings = readSettings(argv, env, TOKEN_SERVICE_SETTINGS, tokenServiceEnvName);
  const { str, int, list, invalid } = settings;
  const bool = (flag: string): boolean => settings.bool(flag) ?? false;

  const connectionString = secretSetting(settings, 'connection-string');
  const endpoint = str('endpoint');
  const bearer = secretSetting(settings, 'bearer-token');
  let identity: StartTokenServiceOptions['identity'];
  if (connectionString !== undefined) {
    if (endpoint !== undefined || bearer !== undefined) {
      throw invalid(
        'connection-string',
        'give either a connection string or --endpoint with --bearer-token, not both.',
      );
    }
    identity = connectionString;
  } else if (endpoint !== undefined && bearer !== undefined) {
    identity = { endpoint, credential: async () => bearer };
  } else if (endpoint !== undefined || bearer !== undefined) {
    throw invalid(endpoint === undefined ? 'endpoint' : 'bearer-token', '--endpoint and --bearer-token go together.');
  } else {
    throw invalid('connection-string', 'the identity server connection string is required.');
  }
  const policy = str('policy');
  if (policy === undefined) throw invalid('policy', 'a policy file is required.');

  const issuerList = list('issuer');
  const audiences = list('audience');
  if (issuerList.length > 0 && audiences.length === 0) throw invalid('audience', 'is required with --issuer.');
  if (audiences.length > 0 && issuerList.length === 0) throw invalid('issuer', 'is required with --audience.');
  const jwksUri = str('jwks-uri');
  if (jwksUri !== undefined && issuerList.length !== 1) throw invalid('jwks-uri', 'needs exactly one --issuer.');
  const issuers: TrustedIssuer[] = issuerList.map((issuer) => ({
    issuer,
    audience: audiences,
    ...(jwksUri === undefined ? {} : { jwksUri }),
  }));

  const logLevel = readLogLevel(settings);
  const devOidc = bool('dev-oidc');
  const options: Record<string, unknown> = {
    identity,
    policy,
    issuers,
    anonymous: bool('anonymous'),
    corsOrigins: list('cors-origin'),
    trustProxy: bool('trust-proxy'),
    demo: bool('demo') || devOidc,
  };
  const optional: Record<string, unknown> = {
    host: str('host'),
    port: int('port'),
    dataDir: str('data-dir'),
    store: str('store'),
    encryptionKey: secretSetting(settings, 'encryption-key'),
    ipRateLimit: str('ip-rate-limit'),
    userRateLimit: str('user-rate-limit'),
    anonymousPerIpPerHour: int('anonymous-per-ip-per-hour'),
    bodyLimit: int('body-limit'),
    logLevel,
    metricsPort: int('metrics-port'),
    metricsHost: str('metrics-host'),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) options[key] = value;
  return { options: options as unknown as StartTokenServiceOptions, devOidc };
}

/**
 * `tessera token-service`: starts the token service (and, with `--dev-oidc`, a development OIDC provider), prints
 * where it listens — never the connection string — and resolves once SIGINT/SIGTERM has shut it down.
 */
export async function tokenServiceCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { options, devOidc } = parseTokenServiceArgs(argv, env);
  let dev: DevOidcProvider | undefined;
  let serviceUrl = '';
  let config = options;
  if (devOidc) {
    dev = await startDevOidcProvider({ host: options.host ?? '127.0.0.1', redirectUris: () => [`${serviceUrl}demo/`] });
    config = {
      ...options,
      issuers: [...(options.issuers ?? []), { issuer: dev.issuer, audience: [dev.resource, dev.clientId] }],
      demo: { oidc: { issuer: dev.issuer, clientId: dev.clientId, scope: 'openid roles', resource: dev.resource } },
    };
  }
  let service: Awaited<ReturnType<typeof startTokenService>>;
  try {
    service = await startTokenService(config);
  } catch (error) {
    await dev?.close();
    throw error;
  }
  serviceUrl = service.url;
  process.stdout.write(
    `Tessera token service listening on ${service.url}\n` +
      (service.metricsUrl === undefined ? '' : `Metrics (Prometheus): ${service.metricsUrl}\n`) +
      (config.demo ? `Demo page: ${service.url}demo/\n` : '') +
      (dev === undefined
        ? ''
        : `Development OIDC provider: ${dev.issuer} (any login name works; 'alice' has the role staff, others member)\n`),
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`Received ${signal}, draining in-flight requests…\n`);
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      Promise.all([service.close(), dev?.close()]).then(
        () => {
          process.stdout.write('Stopped.\n');
          resolve();
        },
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
