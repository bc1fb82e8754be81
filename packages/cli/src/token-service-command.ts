import {
  type DevOidcProvider,
  type StartTokenServiceOptions,
  type TrustedIssuer,
  startDevOidcProvider,
  startTokenService,
  TOKEN_SERVICE_DEFAULTS as D,
  TOKEN_SERVICE_LIMITS as L,
} from '@tessera/token-service';
import { LOG_LEVELS, readLogLevel, readSettings, type SettingSpec, secretSetting } from './settings.js';
import { code, range, settingsUsage } from './settings-table.js';

/** One `tessera token-service` setting: its flag (also `TESSERA_TS_<NAME>`), kind and help. */
export type TokenServiceSetting = SettingSpec;

/** Every `tessera token-service` flag; each is also `TESSERA_TS_<NAME>` (upper case, dashes → underscores). Add a setting here. */
export const TOKEN_SERVICE_SETTINGS: readonly TokenServiceSetting[] = [
  {
    flag: 'connection-string',
    kind: 'string',
    help: 'identity server connection string (endpoint=…;accesskey=…)',
    default: 'required, or `--endpoint` with `--bearer-token`',
    validation: 'not with `--endpoint` / `--bearer-token`',
    more: 'never printed or logged',
  },
  {
    flag: 'endpoint',
    kind: 'string',
    help: 'identity server URL, with --bearer-token instead of a connection string',
    validation: 'with `--bearer-token`',
  },
  {
    flag: 'bearer-token',
    kind: 'string',
    help: 'bearer token (Entra/OIDC) for the identity server',
    validation: 'with `--endpoint`',
  },
  {
    flag: 'connection-string-file',
    kind: 'string',
    help: 'file holding --connection-string (out of ps and history)',
    validation: 'not with `--connection-string`',
    more: '[secrets hygiene](troubleshooting.md#secrets-hygiene)',
  },
  {
    flag: 'bearer-token-file',
    kind: 'string',
    help: 'file holding --bearer-token',
    validation: 'not with `--bearer-token`',
  },
  { flag: 'policy', kind: 'string', help: 'least-privilege policy file (JSON)', default: 'required' },
  { flag: 'host', kind: 'string', help: 'interface to bind', default: code(D.host) },
  { flag: 'port', kind: 'int', help: 'port, 0 = pick a free one', default: code(D.port), validation: range(L.port) },
  {
    flag: 'issuer',
    kind: 'list',
    help: "app users' OIDC issuer(s), comma-separated",
    validation: 'with `--audience`',
  },
  {
    flag: 'audience',
    kind: 'list',
    help: 'accepted app-token audience(s): API resource id or client id',
    validation: 'with `--issuer`',
  },
  {
    flag: 'jwks-uri',
    kind: 'string',
    help: 'JWKS URL',
    default: 'from the issuer discovery document',
    validation: 'exactly one `--issuer`',
  },
  {
    flag: 'anonymous',
    kind: 'bool',
    help: 'accept guests (needs a policy rule matching anonymous)',
    default: 'off',
  },
  {
    flag: 'cors-origin',
    kind: 'list',
    help: 'browser origins allowed to call the API, comma-separated',
    default: 'none',
  },
  {
    flag: 'data-dir',
    kind: 'string',
    help: 'SQLite database and key file',
    default: code(D.dataDir),
    more: 'mapping cache, sessions, encrypted token cache',
  },
  {
    flag: 'store',
    kind: 'string',
    help: "'sqlite:<path>' or 'postgres://…[?schema=name]' to run many instances",
    default: code('sqlite:<data-dir>/token-service.db'),
    validation: '`sqlite:<path>` or `postgres://…` (schema default `tessera_token_service`)',
    more:
      'one state for many instances: sessions, mappings, token cache, rate limits, guest caps, one sweeper at a ' +
      'time ([Scaling the token service](token-service-scaling.md))',
  },
  {
    flag: 'encryption-key',
    kind: 'string',
    help: 'base64 32-byte AES-256-GCM key for the token cache',
    default: code('<data-dir>/token-cache.key'),
  },
  {
    flag: 'encryption-key-file',
    kind: 'string',
    help: 'file holding --encryption-key',
    validation: 'not with `--encryption-key`',
  },
  {
    flag: 'ip-rate-limit',
    kind: 'string',
    help: 'requests per client IP',
    default: code(D.ipRateLimit),
    validation: '`<limit>/<seconds>` or `off`',
  },
  {
    flag: 'user-rate-limit',
    kind: 'string',
    help: 'token and identity requests per user or session',
    default: code(D.userRateLimit),
    validation: '`<limit>/<seconds>` or `off`',
  },
  {
    flag: 'anonymous-per-ip-per-hour',
    kind: 'int',
    help: 'guest identities one IP may create per hour',
    default: code(D.anonymousPerIpPerHour),
    validation: range(L.anonymousPerIpPerHour),
  },
  {
    flag: 'body-limit',
    kind: 'int',
    help: 'largest request body in bytes',
    default: code(D.bodyLimit),
    validation: range(L.bodyLimit),
    more: '413 above',
  },
  {
    flag: 'trust-proxy',
    kind: 'bool',
    help: 'take client IPs from X-Forwarded-For (behind a proxy)',
    default: 'off',
  },
  {
    flag: 'demo',
    kind: 'bool',
    help: 'serve the demo page at /demo/',
    default: 'off',
    more: 'bundles `@tessera/client` with esbuild on first request',
  },
  {
    flag: 'dev-oidc',
    kind: 'bool',
    help: 'also start a development OIDC provider and trust it (implies --demo)',
    default: 'off',
    more: 'any login name works; never in production',
  },
  {
    flag: 'log-level',
    kind: 'string',
    help: LOG_LEVELS.join('|'),
    default: code(D.logLevel),
    validation: 'one of the levels',
  },
  {
    flag: 'metrics-port',
    kind: 'int',
    help: 'serve GET /metrics (Prometheus) unauthenticated on this separate port, 0 = a free one',
    default: 'off',
    more: 'see [Operations](operations.md)',
  },
  {
    flag: 'metrics-host',
    kind: 'string',
    help: 'interface of the --metrics-port listener',
    default: code(D.metricsHost),
  },
];

/** `TESSERA_TS_DATA_DIR` for `data-dir`. */
export function tokenServiceEnvName(flag: string): string {
  return `TESSERA_TS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The usage lines of `tessera token-service`. */
export const TOKEN_SERVICE_USAGE = `  token-service      start the trusted token service (app login → least-privilege user access tokens)
${settingsUsage(TOKEN_SERVICE_SETTINGS, tokenServiceEnvName)}`;

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
