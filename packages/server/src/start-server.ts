import type { Logger } from 'pino';
import { formatConnectionString, isTesseraError } from '@tessera/core';
import { tracingRegistered } from '@tessera/metrics';
import { buildApp } from './app.js';
import { createAuthenticator } from './auth/authenticate.js';
import { createHostAccess } from './auth/host-access.js';
import { createRolesAdmin } from './auth/roles-admin.js';
import { createTokenExchange } from './auth/token-exchange.js';
import { SERVER_DEFAULTS } from './config/server-defaults.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './config/server-options.js';
import { createSecretBox } from './crypto/secret-box.js';
import { createServerLogger } from './http/server-logger.js';
import { createServerMetrics, type ServerMetrics } from './metrics/server-metrics.js';
import { createAccessKeyService } from './service/access-key-service.js';
import { regionOf, type ResourceContext } from './service/resource-context.js';
import { revocationRetentionMs } from './service/state-pruner.js';
import type { ResourceRecord } from './store/store.js';
import { createStoreAvailability, type StoreAvailability } from './store/with-call-timeout.js';
import { openAccessControl } from './start/access-control.js';
import { startBackgroundTasks } from './start/background-tasks.js';
import { createRateLimiter } from './start/create-rate-limiter.js';
import { createServices } from './start/create-services.js';
import { listen, listenForMetrics } from './start/listen.js';
import { initResource, loadMasterKey, logStoreAvailability, openStore } from './start/open-store.js';
import { prepareDataDir } from './start/prepare-data-dir.js';
import { startSigning } from './start/start-signing.js';

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
 * Start-up step: metrics are collected only when they are served somewhere, or when an OpenTelemetry SDK is
 * registered (spans ride on the same wrappers); otherwise nothing is counted.
 */
function createMetricsIfUsed(options: ResolvedServerOptions, clock: () => number): ServerMetrics | undefined {
  return options.metricsListener !== undefined || options.metricsApi || tracingRegistered()
    ? createServerMetrics({ policy: options.rateLimits, clock })
    : undefined;
}

/** The error sink of background tasks: a store outage is logged once (logStoreAvailability), not by every task. */
function backgroundErrorHandler(logger: Logger, availability: StoreAvailability): (error: unknown) => void {
  return (error) => {
    if (isTesseraError(error, 'ERR_STORE_UNAVAILABLE')) availability.failed(error);
    else logger.error({ code: isTesseraError(error) ? error.code : 'ERR_INTERNAL' }, 'background task failed');
  };
}

/** Start-up step: the resource as tokens name it (issuer, audience, region). */
function resourceContext(resource: ResourceRecord, options: ResolvedServerOptions): ResourceContext {
  return {
    resourceId: resource.resourceId,
    location: resource.location,
    region: regionOf(resource.location),
    issuer: options.issuer ?? `urn:tessera:resource:${resource.resourceId}`,
    audience: options.audience,
  };
}

/**
 * Starts the identity server: prepares the data dir, opens and migrates the store, creates the resource on first
 * start, resolves the access and signing keys, builds the services, the rate limiter and the app, and listens. Each
 * step is a function of start/ (docs/development.md "Where things are").
 */
export async function startServer(input: ServerOptions = {}): Promise<RunningServer> {
  const options = resolveServerOptions(input);
  const clock = input.clock ?? Date.now;
  const { logger, flush: flushLog } = createServerLogger({
    level: input.logLevel ?? SERVER_DEFAULTS.logLevel,
    destination: input.logDestination,
  });
  const { https, devTls } = prepareDataDir(options, logger);
  const box = createSecretBox(loadMasterKey(options), options.previousMasterKeys);
  const metrics = createMetricsIfUsed(options, clock);
  const availability = createStoreAvailability({ clock, onChange: (change) => logStoreAvailability(logger, change) });
  const store = await openStore(options, availability, metrics);
  try {
    const { resource, created } = await initResource({ store, box, options, clock, logger });
    const accessKeys = await createAccessKeyService({
      store,
      box,
      clock,
      onRegenerated: metrics === undefined ? undefined : (name) => metrics.keyRegenerated(name),
      notify: () => feed.notify(),
    });
    const keys = accessKeys.keys;
    // Revocation entries, events and retired signing keys matter until the last token they concern has expired.
    const retentionMs = revocationRetentionMs(options.maxClockSkewMs);
    const { worker: signingWorker, ring: signingKeys } = await startSigning({
      options,
      store,
      box,
      clock,
      retentionMs,
      metrics,
    });
    const context = resourceContext(resource, options);
    const onError = backgroundErrorHandler(logger, availability);
    const { service, feed, touches } = await createServices({
      options,
      store,
      clock,
      resource: context,
      signingKeys,
      accessKeys,
      metrics,
      onError,
    });
    const limiter = await createRateLimiter(options, clock, onError);
    let rateLimiter = limiter.limiter;
    if (metrics !== undefined) {
      rateLimiter = metrics.instrumentRateLimiter(rateLimiter);
      metrics.sources({ feedSubscribers: feed.subscribers, signingQueue: () => signingWorker?.pending() });
    }
    const { roles, verifier, audit, bearer, refreshRoles } = await openAccessControl(
      options,
      store,
      clock,
      logger,
      onError,
    );

    const publicHost = options.publicUrl === undefined ? undefined : new URL(options.publicUrl).host;
    let endpoint = options.publicUrl ?? '';
    const app = buildApp({
      service,
      feed,
      keys,
      store,
      resource: context,
      logger,
      clock,
      authenticate: createAuthenticator({ keys, clock, maxSkewMs: options.maxClockSkewMs, publicHost, bearer }),
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
      regenerateKey: (name) => accessKeys.regenerate(name),
    });
    const stopBackground = await startBackgroundTasks({
      options,
      store,
      clock,
      logger,
      feed,
      signingKeys,
      refreshRoles: bearer === undefined ? undefined : refreshRoles,
      retentionMs,
      onError,
    });
    app.addHook('preClose', async () => {
      await stopBackground();
      await limiter.close();
      feed.close();
    });

    if (input.register !== undefined) {
      await input.register(
        app,
        createHostAccess({
          keys,
          bearer,
          resourceId: resource.resourceId,
          publicHost,
          maxClockSkewMs: options.maxClockSkewMs,
          clock,
          metricsRegistry: metrics?.registry,
        }),
      );
    }
    const reached = await listen(app, options, https !== undefined);
    if (endpoint === '') endpoint = reached;
    const metricsListener = await listenForMetrics(app, options, metrics);

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
