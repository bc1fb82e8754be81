import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { base64ToBytes, formatConnectionString, isTesseraError, TesseraError } from '@tessera/core';
import { startMetricsListener, tracingRegistered, type MetricsListener } from '@tessera/metrics';
import { createOidcVerifier } from '@tessera/oidc';
import { buildApp } from './app.js';
import { createAuditLog } from './audit/audit-log.js';
import { createAuthenticator } from './auth/authenticate.js';
import { createBearerAuthenticator } from './auth/bearer-authenticator.js';
import { createHostAccess } from './auth/host-access.js';
import { createRolesAdmin } from './auth/roles-admin.js';
import { createRolesRegistry } from './auth/roles-registry.js';
import { createTokenExchange } from './auth/token-exchange.js';
import { ensureDevCertificates } from './crypto/dev-ca.js';
import { makePrivateDir, sqliteFiles, tightenModes } from './store/private-files.js';
import { createKeyRing, type LiveAccessKey } from './auth/key-ring.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './config/server-options.js';
import { createSecretBox, type SecretBox } from './crypto/secret-box.js';
import { resealSecrets } from './crypto/reseal-secrets.js';
import { createSigningKeyRing, newSigningKeyRecord } from './crypto/signing-key-ring.js';
import { createSigningWorker } from './crypto/signing-worker.js';
import { createRevocationFeed } from './http/revocation-feed.js';
import { createMemoryRateLimiter, type RateLimiter } from './limits/rate-limiter.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { createSharedRateLimiter } from './limits/shared-rate-limiter.js';
import { createIdentityCache } from './service/identity-cache.js';
import { createIdentityService } from './service/identity-service.js';
import { revocationRetentionMs, startStatePruner } from './service/state-pruner.js';
import { regionOf, type ResourceContext } from './service/resource-context.js';
import { createTouchBuffer } from './service/touch-buffer.js';
import { createServerLogger } from './http/server-logger.js';
import { createSqliteStore } from './store/sqlite-store.js';
import {
  createStoreAvailability,
  type StoreAvailability,
  type StoreAvailabilityChange,
  withCallTimeout,
} from './store/with-call-timeout.js';
import { SIGNING_KEYS_NOTICE, type AccessKeyName, type AccessKeyRecord, type Store } from './store/store.js';

/** A running identity server. */
export interface RunningServer {
  /** `http://host:port/` */
  readonly url: string;
  /** Full-control connection string (primary key). */
  readonly connectionString: string;
  /** Read-only connection string (verifier key): revocation feed, introspection. */
  readonly verifierConnectionString: string;
  readonly resourceId: string;
  /** True when this start created the resource (first start on this store). */
  readonly createdResource: boolean;
  /** With `tlsDev`: the development CA certificate clients must trust (`NODE_EXTRA_CA_CERTS=<path>`). */
  readonly devCaPath: string | undefined;
  /** With `metricsPort`: `http://host:port/metrics` of the separate metrics listener. */
  readonly metricsUrl: string | undefined;
  /** Stops accepting requests, drains in-flight ones, flushes buffered writes and closes the store. */
  close(): Promise<void>;
}

/**
 * Files at rest: tightens the database, key and development-CA key files to 0600 where an older version or a copy left
 * them readable by others, and warns about a data dir (or its tls folder) open to others; one line per path.
 */
function warnLooseModes(logger: Logger, options: ResolvedServerOptions): void {
  const tls = join(options.dataDir, 'tls');
  const findings = tightenModes([
    { path: options.dataDir, dir: true },
    ...(options.store.kind === 'sqlite' ? sqliteFiles(options.store.path).map((path) => ({ path, dir: false })) : []),
    { path: join(options.dataDir, 'master.key'), dir: false },
    { path: tls, dir: true },
    { path: join(tls, 'dev-ca.key'), dir: false },
    { path: join(tls, 'localhost.key'), dir: false },
  ]);
  for (const f of findings) {
    const fields = {
      path: f.path,
      mode: f.from.toString(8),
      private: f.to.toString(8),
      ...(f.error ? { error: f.error } : {}),
    };
    if (f.changed) logger.warn(fields, 'data file was readable by other users: its mode is now private');
    else logger.warn(fields, `readable by other users: run chmod ${f.to.toString(8)} on it`);
  }
}

function loadMasterKey(options: ResolvedServerOptions): Uint8Array {
  if (options.masterKey !== undefined) return options.masterKey;
  const path = join(options.dataDir, 'master.key');
  if (existsSync(path)) {
    const key = base64ToBytes(readFileSync(path, 'utf8').trim());
    if (key === undefined || key.length !== 32) {
      throw new TesseraError('ERR_CONFIG_INVALID', `The master key file ${path} is not base64 of 32 bytes.`, {
        target: 'master-key',
      });
    }
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}

/** Opens the configured store with every call bounded by `--store-timeout` (store/with-call-timeout.ts). */
async function openStore(options: ResolvedServerOptions, availability: StoreAvailability): Promise<Store> {
  const timeoutMs = options.storeTimeoutMs;
  let store: Store;
  if (options.store.kind === 'sqlite') store = createSqliteStore({ path: options.store.path });
  else {
    const { createPostgresStore } = await import('./store/postgres-store.js');
    store = createPostgresStore({
      connectionString: options.store.url,
      schema: options.store.schema,
      pool: { connectionTimeoutMillis: timeoutMs, queryTimeoutMillis: timeoutMs },
    });
  }
  return withCallTimeout(store, { timeoutMs, availability });
}

/** One log line when the store stops answering and one when it answers again, however many calls failed. */
function logStoreAvailability(logger: Logger, change: StoreAvailabilityChange): void {
  if (change.available) {
    logger.warn(
      { code: 'ERR_STORE_UNAVAILABLE', downMs: change.downMs, failedCalls: change.failedCalls },
      'store available again',
    );
  } else {
    logger.error({ code: 'ERR_STORE_UNAVAILABLE', reason: change.reason }, 'store unavailable');
  }
}

function newKeyBase64(): string {
  return randomBytes(64).toString('base64');
}

function decodeKeys(records: readonly AccessKeyRecord[], box: SecretBox): LiveAccessKey[] {
  return records.map((r) => {
    const base64 = box.open(r.secret);
    return { name: r.name, version: r.version, base64, secret: createSecretKey(Buffer.from(base64, 'base64')) };
  });
}

/** Starts the identity server: opens and migrates the store, creates the resource on first start, listens. */
export async function startServer(input: ServerOptions = {}): Promise<RunningServer> {
  const options = resolveServerOptions(input);
  const clock = input.clock ?? Date.now;
  const { logger, flush: flushLog } = createServerLogger({
    level: input.logLevel ?? 'info',
    destination: input.logDestination,
  });
  // Node's recursive mkdir never returns under procfs/sysfs: refuse those before trying.
  if (/^\/(proc|sys)(\/|$)/.test(resolvePath(options.dataDir))) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --data-dir: ${options.dataDir} is inside /proc or /sys.`, {
      target: 'data-dir',
    });
  }
  try {
    makePrivateDir(options.dataDir);
  } catch (cause) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --data-dir: cannot create the folder ${options.dataDir}.`, {
      target: 'data-dir',
      cause,
    });
  }
  warnLooseModes(logger, options);
  const devTls = options.tls?.kind === 'dev' ? ensureDevCertificates(options.dataDir) : undefined;
  if (devTls !== undefined && !devTls.constrained) {
    logger.warn(
      { caPath: devTls.caPath },
      'the development CA predates name constraints and can sign for any host; delete the tls folder of the data dir to get a constrained one (then trust it again)',
    );
  }
  const https = options.tls?.kind === 'files' ? { cert: options.tls.cert, key: options.tls.key } : devTls;
  const box = createSecretBox(loadMasterKey(options), options.previousMasterKeys);
  // Metrics are collected only when they are served somewhere, or when an OpenTelemetry SDK is registered (spans
  // ride on the same wrappers); otherwise nothing is counted.
  const metrics =
    options.metricsListener !== undefined || options.metricsApi || tracingRegistered()
      ? createServerMetrics({ policy: options.rateLimits, clock })
      : undefined;
  const availability = createStoreAvailability({ clock, onChange: (change) => logStoreAvailability(logger, change) });
  const openedStore = await openStore(options, availability);
  const store = metrics?.instrumentStore(openedStore) ?? openedStore;
  try {
    await store.migrate();
    const now = clock();
    const seeded = (name: AccessKeyName, given: string | undefined): AccessKeyRecord => ({
      name,
      version: 1,
      secret: box.seal(given ?? newKeyBase64()),
      updatedAt: now,
    });
    const { resource, created } = await store.initResource(
      { resourceId: options.resourceId ?? randomUUID(), location: options.location, createdAt: now },
      [seeded('primary', options.primaryKey), seeded('secondary', options.secondaryKey), seeded('verifier', undefined)],
      newSigningKeyRecord(box, now, now),
    );
    if (!created && options.resourceId !== undefined && options.resourceId !== resource.resourceId) {
      logger.warn({ setting: 'resource-id' }, 'resource-id is only used on first start; the stored resource is kept');
    }

    // Master key rotation: whatever is still sealed under a previous master key is re-sealed under the current one.
    if (options.previousMasterKeys.length > 0) {
      const report = await resealSecrets(store, box);
      logger.info({ resealed: report.resealed, total: report.total }, 'secrets re-sealed under the current master key');
    }

    const keys = createKeyRing(decodeKeys(await store.listAccessKeys(), box));
    const reloadKeys = async () => keys.replace(decodeKeys(await store.listAccessKeys(), box));

    const signingWorker =
      options.signing === 'threadpool' ? undefined : createSigningWorker({ threads: options.signingThreads });
    // Revocation entries, events and retired signing keys matter until the last token they concern has expired.
    const retentionMs = revocationRetentionMs(options.maxClockSkewMs);
    const signingKeys = await createSigningKeyRing({
      store,
      box,
      clock,
      worker: signingWorker,
      retentionMs,
      wrapSigner: metrics === undefined ? undefined : (signer) => metrics.instrumentSigner(signer),
    });

    const context: ResourceContext = {
      resourceId: resource.resourceId,
      location: resource.location,
      region: regionOf(resource.location),
      issuer: options.issuer ?? `urn:tessera:resource:${resource.resourceId}`,
      audience: options.audience,
    };
    // A store outage is logged once (logStoreAvailability), not by every background task that meets it.
    const onError = (error: unknown) => {
      if (isTesseraError(error, 'ERR_STORE_UNAVAILABLE')) availability.failed(error);
      else logger.error({ code: isTesseraError(error) ? error.code : 'ERR_INTERNAL' }, 'background task failed');
    };
    const touches = createTouchBuffer(store, 1000, onError);
    const cache = createIdentityCache(100_000);
    const feed = await createRevocationFeed({
      store,
      heartbeatMs: options.heartbeatMs,
      clock,
      onError,
      onEvent: (event) => {
        metrics?.revocationPropagated((clock() - event.at) / 1000);
        if (event.type === 'key.regenerated') void reloadKeys().catch(onError);
        else cache.invalidate(event.identityId);
      },
    });
    const service = createIdentityService({
      store,
      resource: context,
      signer: signingKeys.signer,
      publicKeys: signingKeys.publicKeys,
      keys,
      touches,
      cache,
      clock,
      onRevocationEvent: () => feed.notify(),
      events: metrics?.events,
    });

    // Clustered on PostgreSQL, rate-limit counters are shared by every process; alone, they live in memory.
    let rateLimiter: RateLimiter = createMemoryRateLimiter(options.rateLimits, clock);
    let closeLimiter = async () => {};
    if (options.store.kind === 'postgres' && Object.keys(options.rateLimits).length > 0) {
      const { createPostgresCounterSync } = await import('./limits/postgres-rate-counters.js');
      const counters = await createPostgresCounterSync({
        connectionString: options.store.url,
        schema: options.store.schema,
        timeoutMs: options.storeTimeoutMs,
      });
      const shared = createSharedRateLimiter({ policy: options.rateLimits, clock, sync: counters.sync, onError });
      rateLimiter = shared;
      closeLimiter = async () => {
        await shared.close();
        await counters.close();
      };
    }
    if (metrics !== undefined) {
      rateLimiter = metrics.instrumentRateLimiter(rateLimiter);
      metrics.sources({ feedSubscribers: feed.subscribers, signingQueue: () => signingWorker?.pending() });
    }

    // Entra ID / OIDC: bearer authentication by role assignment, the token exchange and the audit log.
    const roles = await createRolesRegistry(store);
    const verifier = createOidcVerifier({
      issuers: options.trustedIssuers,
      clock,
      onError: (error) =>
        logger.warn({ err: error instanceof Error ? error.message : 'unknown' }, 'trusted issuer keys unavailable'),
    });
    const audit = createAuditLog({ store, onError });
    const refreshRoles = () => void roles.refreshIfChanged().catch(onError);
    const bearer = options.trustedIssuers.length === 0 ? undefined : createBearerAuthenticator({ verifier, roles });

    let endpoint = options.publicUrl ?? '';
    const app = buildApp({
      service,
      feed,
      keys,
      store,
      resource: context,
      logger,
      clock,
      authenticate: createAuthenticator({
        keys,
        clock,
        maxSkewMs: options.maxClockSkewMs,
        publicHost: options.publicUrl === undefined ? undefined : new URL(options.publicUrl).host,
        bearer,
      }),
      https,
      access: {
        roles: createRolesAdmin({
          store,
          registry: roles,
          trustedIssuers: () => options.trustedIssuers.map((i) => i.issuer),
          clock,
        }),
        audit,
        exchange: createTokenExchange({ verifier, service, clock }),
      },
      bodyLimit: options.bodyLimit,
      jwks: signingKeys.jwks,
      signingKeys,
      endpoint: () => endpoint,
      rateLimiter,
      metrics:
        metrics === undefined
          ? undefined
          : {
              registry: metrics.registry,
              requests: metrics.requests,
              tracing: metrics.tracing,
              onApiPort: options.metricsApi,
            },
      regenerateKey: async (name) => {
        await store.regenerateAccessKey(name, box.seal(newKeyBase64()), clock());
        metrics?.keyRegenerated(name);
        await reloadKeys();
        feed.notify();
      },
    });
    const reloadSigningKeys = () => void signingKeys.reload().catch(onError);
    // Other processes on the same store: LISTEN/NOTIFY for speed, plus a slow poll as a safety net.
    const stopWatch =
      options.store.kind === 'postgres'
        ? (await import('./store/postgres-watch.js')).watchPostgresEvents({
            connectionString: options.store.url,
            schema: options.store.schema,
            pingMs: options.storeTimeoutMs,
            onNotify: (payload) => {
              feed.notify();
              if (bearer !== undefined) refreshRoles();
              // A signing key rotated or dropped by another process (or anything, after a reconnect).
              if (payload === undefined || payload === SIGNING_KEYS_NOTICE) reloadSigningKeys();
            },
            onError,
          })
        : undefined;
    const poll = setInterval(() => {
      feed.notify();
      // Role changes made by other processes: one cheap version read per poll, only where bearer auth is on.
      if (bearer !== undefined) refreshRoles();
    }, options.pollMs);
    poll.unref();
    const pruner = startStatePruner({
      store,
      clock,
      retentionMs,
      auditRetentionMs: options.auditRetentionMs,
      intervalMs: options.pruneIntervalMs,
      onError,
      onPruned: (totals) => {
        if (totals.signingKeys > 0) reloadSigningKeys();
        logger.info({ ...totals }, 'pruned state past its retention');
      },
    });
    app.addHook('preClose', async () => {
      clearInterval(poll);
      await pruner.close();
      await stopWatch?.();
      await closeLimiter();
      feed.close();
    });

    if (input.register !== undefined) {
      await input.register(
        app,
        createHostAccess({
          keys,
          bearer,
          resourceId: resource.resourceId,
          publicHost: options.publicUrl === undefined ? undefined : new URL(options.publicUrl).host,
          maxClockSkewMs: options.maxClockSkewMs,
          clock,
        }),
      );
    }
    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (cause) {
      const code = (cause as { code?: string }).code;
      throw new TesseraError(
        'ERR_CONFIG_INVALID',
        code === 'EADDRINUSE'
          ? `Invalid --port: ${options.host}:${options.port} is already in use.`
          : `Invalid --host/--port: cannot listen on ${options.host}:${options.port} (${code ?? 'error'}).`,
        { target: code === 'EADDRINUSE' ? 'port' : 'host', cause },
      );
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    const hostForUrl = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
    const scheme = https === undefined ? 'http' : 'https';
    if (endpoint === '') endpoint = `${scheme}://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}/`;
    let metricsListener: MetricsListener | undefined;
    if (metrics !== undefined && options.metricsListener !== undefined) {
      const { host, port: metricsPort } = options.metricsListener;
      try {
        metricsListener = await startMetricsListener({ registry: metrics.registry, host, port: metricsPort });
      } catch (cause) {
        await app.close();
        throw new TesseraError(
          'ERR_CONFIG_INVALID',
          `Invalid --metrics-host/--metrics-port: cannot listen on ${host}:${metricsPort} (${(cause as { code?: string }).code ?? 'error'}).`,
          { target: 'metrics-port', cause },
        );
      }
    }

    let closing: Promise<void> | undefined;
    return {
      url: endpoint,
      connectionString: formatConnectionString(endpoint, keys.get('primary')?.base64 ?? ''),
      verifierConnectionString: formatConnectionString(endpoint, keys.get('verifier')?.base64 ?? ''),
      resourceId: resource.resourceId,
      createdResource: created,
      devCaPath: devTls?.caPath,
      metricsUrl: metricsListener?.url,
      close() {
        closing ??= (async () => {
          await metricsListener?.close();
          await app.close();
          await audit.close();
          await touches.close();
          await signingWorker?.close();
          await store.close();
          flushLog();
        })();
        return closing;
      },
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}
