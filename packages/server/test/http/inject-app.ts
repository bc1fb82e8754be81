// The fast test layer (docs/development.md "Test layers"): the identity server's whole HTTP layer — `buildApp` with
// the same deps `startServer` assembles — on the in-memory store, driven through fastify's `inject()` with no socket
// and no process. Anything that needs a listening socket, TLS, a data dir or several processes stays in e2e/.
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createOidcVerifier } from '@tessera/oidc';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createAuthenticator } from '../../src/auth/authenticate.js';
import { createKeyRing, type LiveAccessKey } from '../../src/auth/key-ring.js';
import { createRolesAdmin } from '../../src/auth/roles-admin.js';
import { createRolesRegistry } from '../../src/auth/roles-registry.js';
import { createTokenExchange } from '../../src/auth/token-exchange.js';
import { resolveServerOptions, type ServerOptions } from '../../src/config/server-options.js';
import { createSecretBox, type SecretBox } from '../../src/crypto/secret-box.js';
import { createSigningKeyRing, newSigningKeyRecord } from '../../src/crypto/signing-key-ring.js';
import { createRevocationFeed } from '../../src/http/revocation-feed.js';
import { createServerLogger } from '../../src/http/server-logger.js';
import { createMemoryRateLimiter } from '../../src/limits/rate-limiter.js';
import { createIdentityCache } from '../../src/service/identity-cache.js';
import { createIdentityService } from '../../src/service/identity-service.js';
import { regionOf, type ResourceContext } from '../../src/service/resource-context.js';
import { revocationRetentionMs } from '../../src/service/state-pruner.js';
import { createTouchBuffer } from '../../src/service/touch-buffer.js';
import { type AcsRequestInput, signRequest } from '../e2e/helpers.js';
import { createMemoryStore } from '../../src/store/memory-store.js';
import type { AccessKeyName, AccessKeyRecord, Store } from '../../src/store/store.js';

/** The authority `inject()` sends (`Host: localhost:80`), and so the one requests are signed for. */
export const INJECT_HOST = 'localhost:80';
/** The endpoint the app advertises (discovery, connection strings). */
export const INJECT_ENDPOINT = 'http://localhost:80/';

/** Options of {@link injectApp}: the {@link ServerOptions} that shape the HTTP layer, and a clock. */
export interface InjectAppOptions {
  readonly server?: Pick<
    ServerOptions,
    'bodyLimit' | 'maxClockSkewSeconds' | 'rateLimit' | 'heartbeatMs' | 'issuer' | 'audience' | 'location'
  >;
  /** Unix ms; default Date.now. */
  readonly clock?: () => number;
}

/** One response of {@link InjectedApp.acs}, with the body parsed when it is JSON. */
export interface InjectedResponse {
  readonly status: number;
  readonly headers: LightMyRequestResponse['headers'];
  readonly text: string;
  readonly json: unknown;
}

/** Options of {@link InjectedApp.acs}: each part of an HMAC-signed request can be tampered with (as e2e's). */
export type AcsInjectInput = AcsRequestInput;

/** The app on a memory store, its keys, and signed `inject()` calls. */
export interface InjectedApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly resourceId: string;
  /** Errors of background tasks (touch buffer, audit log, revocation feed); a test may assert it stays empty. */
  readonly errors: readonly unknown[];
  /** base64 access keys as the store holds them now. */
  key(name: AccessKeyName): string;
  /** An HMAC-signed request (the primary key unless `input.accessKey`). */
  acs(method: string, url: string, input?: AcsInjectInput): Promise<InjectedResponse>;
  /** A request with exactly the given headers and body, unsigned. */
  raw(
    method: string,
    url: string,
    input?: { readonly headers?: Readonly<Record<string, string>>; readonly body?: string | Buffer },
  ): Promise<InjectedResponse>;
  /** Writes what the audit log and the issue-time buffer hold to the store now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

function parsed(response: LightMyRequestResponse): InjectedResponse {
  let json: unknown;
  try {
    json = response.body === '' ? undefined : JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text: response.body, json };
}

function decodeKeys(records: readonly AccessKeyRecord[], box: SecretBox): LiveAccessKey[] {
  return records.map((record) => {
    const base64 = box.open(record.secret);
    return {
      name: record.name,
      version: record.version,
      base64,
      secret: createSecretKey(Buffer.from(base64, 'base64')),
    };
  });
}

/**
 * Builds the app as `startServer` does (start-server.ts), on a fresh in-memory store, without listening. Signing runs
 * on libuv's pool (no worker threads), bearer auth is off (no trusted issuers), metrics are off.
 */
export async function injectApp(options: InjectAppOptions = {}): Promise<InjectedApp> {
  const resolved = resolveServerOptions({ ...options.server, dataDir: 'unused-by-inject' });
  const clock = options.clock ?? Date.now;
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const { logger } = createServerLogger({ level: 'silent', destination: sink });
  const box = createSecretBox(randomBytes(32));
  const store = createMemoryStore();
  await store.migrate();
  const now = clock();
  const seeded = (name: AccessKeyName): AccessKeyRecord => ({
    name,
    version: 1,
    secret: box.seal(randomBytes(64).toString('base64')),
    updatedAt: now,
  });
  const { resource } = await store.initResource(
    { resourceId: randomUUID(), location: resolved.location, createdAt: now },
    [seeded('primary'), seeded('secondary'), seeded('verifier')],
    newSigningKeyRecord(box, now, now),
  );
  const keys = createKeyRing(decodeKeys(await store.listAccessKeys(), box));
  const reloadKeys = async () => keys.replace(decodeKeys(await store.listAccessKeys(), box));
  const signingKeys = await createSigningKeyRing({
    store,
    box,
    clock,
    worker: undefined,
    retentionMs: revocationRetentionMs(resolved.maxClockSkewMs),
  });
  const context: ResourceContext = {
    resourceId: resource.resourceId,
    location: resource.location,
    region: regionOf(resource.location),
    issuer: resolved.issuer ?? `urn:tessera:resource:${resource.resourceId}`,
    audience: resolved.audience,
  };
  const errors: unknown[] = [];
  const onError = (error: unknown) => {
    errors.push(error);
  };
  const touches = createTouchBuffer(store, 1000, onError);
  const cache = createIdentityCache(1000);
  const feed = await createRevocationFeed({
    store,
    heartbeatMs: resolved.heartbeatMs,
    clock,
    onError,
    onEvent: (event) => {
      if (event.type === 'key.regenerated') void reloadKeys();
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
  });
  const roles = await createRolesRegistry(store);
  const verifier = createOidcVerifier({ issuers: [], clock });
  const audit = createAuditLog({ store, onError });
  const app = buildApp({
    service,
    feed,
    keys,
    store,
    resource: context,
    logger,
    clock,
    // inject() has no socket (no local port to match the signed host against): the host it sends is the public one,
    // as behind `--public-url`.
    authenticate: createAuthenticator({ keys, clock, maxSkewMs: resolved.maxClockSkewMs, publicHost: INJECT_HOST }),
    access: {
      roles: createRolesAdmin({ store, registry: roles, trustedIssuers: () => [], clock }),
      audit,
      exchange: createTokenExchange({ verifier, service, clock }),
    },
    bodyLimit: resolved.bodyLimit,
    jwks: signingKeys.jwks,
    signingKeys,
    endpoint: () => INJECT_ENDPOINT,
    rateLimiter: createMemoryRateLimiter(resolved.rateLimits, clock),
    regenerateKey: async (name) => {
      await store.regenerateAccessKey(name, box.seal(randomBytes(64).toString('base64')), clock());
      await reloadKeys();
      feed.notify();
    },
  });
  app.addHook('preClose', async () => feed.close());
  await app.ready();

  const key = (name: AccessKeyName): string => keys.get(name)?.base64 ?? '';
  return {
    app,
    store,
    resourceId: resource.resourceId,
    errors,
    key,
    async acs(method, url, input = {}) {
      const body = input.body ?? (input.json === undefined ? '' : JSON.stringify(input.json));
      const signed = signRequest({
        method,
        pathAndQuery: input.signPath ?? url,
        host: input.signHost ?? INJECT_HOST,
        body: input.signBody ?? body,
        accessKey: input.accessKey ?? key('primary'),
        date: input.date ?? new Date(clock()).toUTCString(),
      });
      const headers: Record<string, string> = {
        'x-ms-date': signed.date,
        'x-ms-content-sha256': signed.contentHash,
        authorization: signed.authorization,
      };
      if (body !== '') headers['content-type'] = 'application/json';
      if (input.requestId !== undefined) headers['x-ms-client-request-id'] = input.requestId;
      Object.assign(headers, input.headers);
      for (const name of input.omit ?? []) delete headers[name];
      return parsed(await app.inject({ method, url, headers, ...(body === '' ? {} : { payload: body }) }));
    },
    async raw(method, url, input = {}) {
      return parsed(
        await app.inject({
          method,
          url,
          headers: { ...input.headers },
          ...(input.body === undefined ? {} : { payload: input.body }),
        }),
      );
    },
    async flush() {
      await audit.flush();
      await touches.flush();
    },
    async close() {
      await app.close();
      await audit.close();
      await touches.close();
      await store.close();
    },
  };
}
