import { readFileSync } from 'node:fs';
import { base64ToBytes, isUuid, parseRateLimitPolicy, TesseraError, type RateLimitPolicy } from '@tessera/core';
import {
  loadTrustedIssuersFile,
  parseTrustedIssuers,
  type TrustedIssuer,
  type TrustedIssuerConfig,
} from '../auth/oidc-trusted-issuers.js';
import { SERVER_DEFAULTS as D, SERVER_LIMITS as L } from './server-defaults.js';

/** Options of `startServer` — the same settings as `tessera serve` flags and `TESSERA_*` env vars. */
export interface ServerOptions {
  /** Interface to bind (default: `SERVER_DEFAULTS.host`). */
  host?: string;
  /** Port; 0 picks a free one (default: `SERVER_DEFAULTS.port`). */
  port?: number;
  /** Where SQLite data and the master key live (default: `SERVER_DEFAULTS.dataDir`). */
  dataDir?: string;
  /** `sqlite:<path>` (default `sqlite:<dataDir>/tessera.db`) or `postgres://...`. */
  store?: string;
  /** Bound of one store call in ms; past it the request answers 503 `ERR_STORE_UNAVAILABLE` (default: `SERVER_DEFAULTS.storeTimeoutMs`). */
  storeTimeoutMs?: number;
  /** Seeds the primary access key on first start (base64). */
  primaryKey?: string;
  /** Seeds the secondary access key on first start (base64). */
  secondaryKey?: string;
  /** File holding `primaryKey` (base64), so the key stays out of `ps` and shell history. */
  primaryKeyFile?: string;
  /** File holding `secondaryKey` (base64). */
  secondaryKeyFile?: string;
  /** Resource id (uuid) used on first start. */
  resourceId?: string;
  /** Data location on first start (default: `SERVER_DEFAULTS.location`). */
  location?: string;
  /** Token issuer (default `urn:tessera:resource:<resourceId>`). */
  issuer?: string;
  /** Token audience (default: `SERVER_DEFAULTS.audience`). */
  audience?: string;
  /** Public endpoint written into connection strings (default `http://<host>:<port>/`). */
  publicUrl?: string;
  /** 32-byte master key (base64) that encrypts secrets at rest; default: `<dataDir>/master.key`, created on first start. */
  masterKey?: string;
  /** File holding the master key (base64 of 32 bytes), instead of `masterKey`. */
  masterKeyFile?: string;
  /**
   * File holding the previous master key during a rotation: secrets sealed under it are still read, and re-sealed
   * under the current key at start (docs/key-rotation.md).
   */
  previousMasterKeyFile?: string;
  /** Days audit entries are kept; 0 keeps them for ever (default: `SERVER_DEFAULTS.auditRetentionDays`). */
  auditRetentionDays?: number;
  /** Milliseconds between pruning runs (revocation entries, events, retired signing keys, audit) (default: `SERVER_DEFAULTS.pruneIntervalMs`). */
  pruneIntervalMs?: number;
  /** HMAC replay window in seconds (default: `SERVER_DEFAULTS.maxClockSkewSeconds`). */
  maxClockSkewSeconds?: number;
  /** Largest request body in bytes (default: `SERVER_DEFAULTS.bodyLimit`). */
  bodyLimit?: number;
  /** pino level (default: `SERVER_DEFAULTS.logLevel`). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where log lines go (default stdout). */
  logDestination?: NodeJS.WritableStream;
  /** Milliseconds between revocation-feed heartbeats (default: `SERVER_DEFAULTS.heartbeatMs`). */
  heartbeatMs?: number;
  /** Milliseconds between safety-net polls of the event log for changes made by other processes (default: `SERVER_DEFAULTS.pollMs`). */
  pollMs?: number;
  /**
   * Where ES256 token signatures are computed: `worker` (default; worker threads fed through shared memory)
   * or `threadpool` (one `crypto.sign` job per token on libuv's pool).
   */
  signing?: 'worker' | 'threadpool';
  /** Signing worker threads with `signing: 'worker'`, 1–16 (default: `SERVER_DEFAULTS.signingThreads`; each a V8 isolate of ~10 MB). */
  signingThreads?: number;
  /** Rate limits per credential and operation: `acs` (default), `off`, or `create=1000/30,issue=5000/30,…`. */
  rateLimit?: string;
  /** Clock, for tests (default Date.now). */
  clock?: () => number;
  /**
   * Registers more routes on the server's Fastify instance before it listens — `tessera serve` mounts
   * `@tessera/chat` (and Rooms) this way, so one endpoint serves identity, chat and rooms as one ACS resource does.
   * `host` gives read-only views of the live access keys and bearer role assignments (no key text).
   */
  register?: (
    app: import('fastify').FastifyInstance,
    host: import('../auth/host-access.js').ServerHostAccess,
  ) => Promise<void>;
  /** TLS certificate chain (PEM file); serves HTTPS with `tlsKey`. */
  tlsCert?: string;
  /** TLS private key (PEM file). */
  tlsKey?: string;
  /** Serve HTTPS with a development CA and localhost certificate created under `<dataDir>/tls/` on first start. */
  tlsDev?: boolean;
  /**
   * Trusted OpenID Connect issuers for bearer authentication and the token exchange: a JSON file path, inline
   * JSON (text starting with `[` or `{`), or the parsed list.
   */
  trustedIssuers?: string | readonly (string | TrustedIssuerConfig)[];
  /** More trusted issuers by URL alone (discovery at `<issuer>/.well-known/openid-configuration`, default audiences). */
  trustedIssuer?: readonly string[];
  /** Serve `GET /metrics` unauthenticated on a separate listener at this port (0 = free port; default: none). */
  metricsPort?: number;
  /** Interface of the metrics listener (default: `SERVER_DEFAULTS.metricsHost`); needs `metricsPort`. */
  metricsHost?: string;
  /** Serve `GET /metrics` on the main port to callers holding `metrics/read` (verifier key, `metrics-reader` role). */
  metricsApi?: boolean;
}

/** Options after validation and defaults. */
export interface ResolvedServerOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly store:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: string | undefined };
  readonly storeTimeoutMs: number;
  readonly primaryKey: string | undefined;
  readonly secondaryKey: string | undefined;
  readonly resourceId: string | undefined;
  readonly location: string;
  readonly issuer: string | undefined;
  readonly audience: string;
  readonly publicUrl: string | undefined;
  readonly masterKey: Uint8Array | undefined;
  /** Previous master keys still accepted while secrets are re-sealed. */
  readonly previousMasterKeys: readonly Uint8Array[];
  /** Audit retention, ms; undefined keeps audit for ever. */
  readonly auditRetentionMs: number | undefined;
  readonly pruneIntervalMs: number;
  readonly maxClockSkewMs: number;
  readonly bodyLimit: number;
  readonly heartbeatMs: number;
  readonly rateLimits: RateLimitPolicy;
  readonly pollMs: number;
  readonly signing: 'worker' | 'threadpool';
  readonly signingThreads: number;
  /** How to serve TLS; undefined → plain HTTP. */
  readonly tls:
    | { readonly kind: 'files'; readonly cert: string; readonly key: string }
    | { readonly kind: 'dev' }
    | undefined;
  /** Issuers whose tokens authenticate callers (bearer) and can be exchanged. */
  readonly trustedIssuers: readonly TrustedIssuer[];
  /** The separate metrics listener, if any. */
  readonly metricsListener: { readonly host: string; readonly port: number } | undefined;
  /** `GET /metrics` on the main port for `metrics/read` holders. */
  readonly metricsApi: boolean;
}

function readPem(setting: string, path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN ')) throw new Error('not PEM');
    return text;
  } catch {
    throw invalid(setting, `cannot read a PEM file at '${path}'.`);
  }
}

function resolveTls(options: ServerOptions): ResolvedServerOptions['tls'] {
  if (options.tlsDev === true) {
    if (options.tlsCert !== undefined || options.tlsKey !== undefined) {
      throw invalid('tls-dev', 'cannot be combined with --tls-cert / --tls-key.');
    }
    return { kind: 'dev' };
  }
  if (options.tlsCert === undefined && options.tlsKey === undefined) return undefined;
  if (options.tlsCert === undefined) throw invalid('tls-cert', 'is required with --tls-key.');
  if (options.tlsKey === undefined) throw invalid('tls-key', 'is required with --tls-cert.');
  return { kind: 'files', cert: readPem('tls-cert', options.tlsCert), key: readPem('tls-key', options.tlsKey) };
}

function resolveTrustedIssuers(options: ServerOptions): TrustedIssuer[] {
  const given = options.trustedIssuers;
  let issuers: TrustedIssuer[] = [];
  if (typeof given === 'string') {
    const trimmed = given.trim();
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(trimmed);
      } catch {
        throw invalid('trusted-issuers', 'inline JSON does not parse.');
      }
      issuers = parseTrustedIssuers(json, 'trusted-issuers');
    } else if (trimmed !== '') {
      issuers = loadTrustedIssuersFile(trimmed, 'trusted-issuers');
    }
  } else if (given !== undefined) {
    issuers = parseTrustedIssuers(given, 'trusted-issuers');
  }
  const more = parseTrustedIssuers(options.trustedIssuer ?? [], 'trusted-issuer');
  const known = new Set(issuers.map((i) => i.issuer));
  for (const issuer of more) {
    if (known.has(issuer.issuer)) throw invalid('trusted-issuer', `'${issuer.issuer}' is also in --trusted-issuers.`);
  }
  return [...issuers, ...more];
}

/** Reads a key file: base64 of exactly 32 bytes (surrounding whitespace ignored). The contents never reach an error. */
function keyFile(setting: string, path: string | undefined): Uint8Array | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw invalid(setting, `cannot read '${path}'.`);
  }
  const decoded = base64ToBytes(text.trim());
  if (decoded === undefined || decoded.length !== 32) throw invalid(setting, `'${path}' is not base64 of 32 bytes.`);
  return decoded;
}

/** An access key seed given inline or as a file (base64 of at least 32 bytes); both at once is an error. */
function accessKeyOf(setting: string, value: string | undefined, path: string | undefined): string | undefined {
  if (value !== undefined && path !== undefined)
    throw invalid(`${setting}-file`, `cannot be combined with --${setting}.`);
  if (path === undefined) {
    key(setting, value);
    return value;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw invalid(`${setting}-file`, `cannot read '${path}'.`);
  }
  const decoded = base64ToBytes(text);
  if (decoded === undefined || decoded.length < 32) {
    throw invalid(`${setting}-file`, `'${path}' is not base64 of at least 32 bytes.`);
  }
  return text;
}

function masterKeyOf(options: ServerOptions): Uint8Array | undefined {
  if (options.masterKey !== undefined && options.masterKeyFile !== undefined) {
    throw invalid('master-key-file', 'cannot be combined with --master-key.');
  }
  return key('master-key', options.masterKey, 32) ?? keyFile('master-key-file', options.masterKeyFile);
}

function invalid(setting: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', `Invalid --${setting}: ${message}`, { target: setting });
}

/**
 * One signing thread. With the shared-memory hand-off (crypto/signing-worker.ts) one thread signs faster than the event
 * loop can ask (~37 µs a signature against ≥ 50 µs of loop work per token), and a second thread only adds timed
 * wake-ups on the vCPU the loop shares: interleaved A/B on 2 vCPU, one thread ×1.32 issues/s over two (6 of 6 pairs),
 * p99 13.6 → 10.9 ms (bench/README.md). More threads are for machines whose event loops outrun one.
 */
export const DEFAULT_SIGNING_THREADS = D.signingThreads;

function signingMode(value: string | undefined): 'worker' | 'threadpool' {
  if (value === undefined || value === 'worker' || value === 'threadpool') return value ?? D.signing;
  throw invalid('signing', "must be 'worker' or 'threadpool'.");
}

function intIn(setting: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalid(setting, `must be an integer in [${min}, ${max}].`);
  return value;
}

function key(setting: string, value: string | undefined, bytes?: number): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const decoded = base64ToBytes(value);
  if (decoded === undefined || decoded.length < 32) throw invalid(setting, 'must be base64 of at least 32 bytes.');
  if (bytes !== undefined && decoded.length !== bytes)
    throw invalid(setting, `must be base64 of exactly ${bytes} bytes.`);
  return decoded;
}

/** Validates options and applies defaults; a bad value throws `ERR_CONFIG_INVALID` naming the setting. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const host = options.host ?? D.host;
  if (host === '' || /\s/.test(host)) throw invalid('host', 'must be a host name or IP address.');
  const port = intIn('port', options.port, D.port, ...L.port);
  const dataDir = options.dataDir ?? D.dataDir;
  if (dataDir === '') throw invalid('data-dir', 'must not be empty.');
  let store: ResolvedServerOptions['store'] = { kind: 'sqlite', path: `${dataDir}/tessera.db` };
  if (options.store !== undefined) {
    if (options.store.startsWith('sqlite:')) {
      const path = options.store.slice('sqlite:'.length);
      if (path === '') throw invalid('store', "sqlite: needs a path, e.g. 'sqlite:./.tessera/tessera.db'.");
      store = { kind: 'sqlite', path };
    } else if (/^postgres(ql)?:\/\//.test(options.store)) {
      // `?schema=name` selects the schema (Tessera's own parameter; stripped before the driver sees the URL).
      let url: URL;
      try {
        url = new URL(options.store);
      } catch {
        throw invalid('store', 'is not a valid postgres:// URL.');
      }
      const schema = url.searchParams.get('schema') ?? undefined;
      url.searchParams.delete('schema');
      store = { kind: 'postgres', url: url.toString(), schema };
    } else {
      throw invalid('store', "must be 'sqlite:<path>' or 'postgres://…'.");
    }
  }
  const primaryKey = accessKeyOf('primary-key', options.primaryKey, options.primaryKeyFile);
  const secondaryKey = accessKeyOf('secondary-key', options.secondaryKey, options.secondaryKeyFile);
  if (options.resourceId !== undefined && !isUuid(options.resourceId)) throw invalid('resource-id', 'must be a UUID.');
  const location = options.location ?? D.location;
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(location))
    throw invalid('location', "must be a lower-case location name such as 'unitedstates'.");
  if (options.publicUrl !== undefined) {
    try {
      const url = new URL(options.publicUrl);
      if (url.pathname !== '/' || !/^https?:$/.test(url.protocol)) throw new Error('path');
    } catch {
      throw invalid('public-url', 'must be http(s)://host[:port]/ with no path.');
    }
  }
  return {
    host,
    port,
    dataDir,
    store,
    storeTimeoutMs: intIn('store-timeout', options.storeTimeoutMs, D.storeTimeoutMs, ...L.storeTimeoutMs),
    primaryKey,
    secondaryKey,
    resourceId: options.resourceId?.toLowerCase(),
    location,
    issuer: options.issuer,
    audience: options.audience ?? D.audience,
    publicUrl: options.publicUrl,
    masterKey: masterKeyOf(options),
    previousMasterKeys: [keyFile('previous-master-key-file', options.previousMasterKeyFile)].filter(
      (k): k is Uint8Array => k !== undefined,
    ),
    auditRetentionMs:
      (options.auditRetentionDays ?? D.auditRetentionDays) === 0
        ? undefined
        : intIn('audit-retention', options.auditRetentionDays, D.auditRetentionDays, ...L.auditRetentionDays) *
          86_400_000,
    pruneIntervalMs: intIn('prune-interval-ms', options.pruneIntervalMs, D.pruneIntervalMs, ...L.pruneIntervalMs),
    maxClockSkewMs:
      intIn('max-clock-skew', options.maxClockSkewSeconds, D.maxClockSkewSeconds, ...L.maxClockSkewSeconds) * 1000,
    bodyLimit: intIn('body-limit', options.bodyLimit, D.bodyLimit, ...L.bodyLimit),
    heartbeatMs: intIn('heartbeat-ms', options.heartbeatMs, D.heartbeatMs, ...L.heartbeatMs),
    rateLimits: parseRateLimitPolicy(options.rateLimit ?? D.rateLimit),
    pollMs: intIn('poll-ms', options.pollMs, D.pollMs, ...L.pollMs),
    signing: signingMode(options.signing),
    signingThreads: intIn('signing-threads', options.signingThreads, D.signingThreads, ...L.signingThreads),
    tls: resolveTls(options),
    trustedIssuers: resolveTrustedIssuers(options),
    metricsListener: resolveMetricsListener(options, port),
    metricsApi: options.metricsApi ?? false,
  };
}

function resolveMetricsListener(options: ServerOptions, port: number): ResolvedServerOptions['metricsListener'] {
  if (options.metricsPort === undefined) {
    if (options.metricsHost !== undefined) throw invalid('metrics-host', 'needs --metrics-port.');
    return undefined;
  }
  const metricsPort = intIn('metrics-port', options.metricsPort, 0, ...L.metricsPort);
  if (metricsPort !== 0 && metricsPort === port) throw invalid('metrics-port', 'must differ from --port.');
  const host = options.metricsHost ?? D.metricsHost;
  if (host === '' || /\s/.test(host)) throw invalid('metrics-host', 'must be a host name or IP address.');
  return { host, port: metricsPort };
}
