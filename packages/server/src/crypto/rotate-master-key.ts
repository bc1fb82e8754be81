import { TesseraError } from '@tessera/core';
import { resolveServerOptions, type ServerOptions } from '../config/server-options.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { resealSecrets, type ResealReport } from './reseal-secrets.js';
import { createSecretBox } from './secret-box.js';

/**
 * `tessera keys rotate-master`: re-seals every secret of the configured store under the new master key
 * (`masterKey` / `masterKeyFile`), reading those still under `previousMasterKeyFile`. Safe beside running servers
 * (compare-and-set writes) and safe to run again after a crash midway.
 */
export async function rotateMasterKey(input: ServerOptions): Promise<ResealReport> {
  const options = resolveServerOptions(input);
  if (options.masterKey === undefined) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --master-key-file: the new master key is required.', {
      target: 'master-key-file',
    });
  }
  if (options.previousMasterKeys.length === 0) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'Invalid --previous-master-key-file: the master key the secrets are sealed under now is required.',
      { target: 'previous-master-key-file' },
    );
  }
  const box = createSecretBox(options.masterKey, options.previousMasterKeys);
  let store: Store;
  if (options.store.kind === 'sqlite') store = createSqliteStore({ path: options.store.path });
  else {
    const { createPostgresStore } = await import('../store/postgres-store.js');
    store = createPostgresStore({ connectionString: options.store.url, schema: options.store.schema });
  }
  try {
    await store.migrate();
    return await resealSecrets(store, box);
  } finally {
    await store.close();
  }
}
