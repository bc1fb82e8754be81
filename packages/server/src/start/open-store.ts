import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { base64ToBytes, TesseraError } from '@tessera/core';
import type { ResolvedServerOptions } from '../config/server-options.js';
import { resealSecrets } from '../crypto/reseal-secrets.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { newSigningKeyRecord } from '../crypto/signing-key-ring.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { newAccessKeyBase64 } from '../service/access-key-service.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { AccessKeyName, AccessKeyRecord, ResourceRecord, Store } from '../store/store.js';
import { type StoreAvailability, type StoreAvailabilityChange, withCallTimeout } from '../store/with-call-timeout.js';

/** Start-up step: the master key from `--master-key`, or `master.key` in the data dir (created 0600 on first start). */
export function loadMasterKey(options: ResolvedServerOptions): Uint8Array {
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

/**
 * Start-up step: opens the configured store with every call bounded by `--store-timeout` (store/with-call-timeout.ts),
 * counted and traced when metrics are on.
 */
export async function openStore(
  options: ResolvedServerOptions,
  availability: StoreAvailability,
  metrics: ServerMetrics | undefined,
): Promise<Store> {
  const timeoutMs = options.storeTimeoutMs;
  let store: Store;
  if (options.store.kind === 'sqlite') store = createSqliteStore({ path: options.store.path });
  else {
    const { createPostgresStore } = await import('../store/postgres-store.js');
    store = createPostgresStore({
      connectionString: options.store.url,
      schema: options.store.schema,
      pool: { connectionTimeoutMillis: timeoutMs, queryTimeoutMillis: timeoutMs },
    });
  }
  const opened = withCallTimeout(store, { timeoutMs, availability });
  return metrics?.instrumentStore(opened) ?? opened;
}

/** One log line when the store stops answering and one when it answers again, however many calls failed. */
export function logStoreAvailability(logger: Logger, change: StoreAvailabilityChange): void {
  if (change.available) {
    logger.warn(
      { code: 'ERR_STORE_UNAVAILABLE', downMs: change.downMs, failedCalls: change.failedCalls },
      'store available again',
    );
  } else {
    logger.error({ code: 'ERR_STORE_UNAVAILABLE', reason: change.reason }, 'store unavailable');
  }
}

/** Options of {@link initResource}. */
export interface InitResourceOptions {
  readonly store: Store;
  readonly box: SecretBox;
  readonly options: ResolvedServerOptions;
  readonly clock: () => number;
  readonly logger: Logger;
}

/**
 * Start-up step: migrates the store, creates the resource with its access and signing keys on first start, and
 * re-seals under the current master key whatever a previous one still seals (master key rotation).
 */
export async function initResource(init: InitResourceOptions): Promise<{ resource: ResourceRecord; created: boolean }> {
  const { store, box, options, clock, logger } = init;
  await store.migrate();
  const now = clock();
  const seeded = (name: AccessKeyName, given: string | undefined): AccessKeyRecord => ({
    name,
    version: 1,
    secret: box.seal(given ?? newAccessKeyBase64()),
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
  return { resource, created };
}
