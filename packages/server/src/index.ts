export { startServer, type RunningServer } from './start-server.js';
export { buildApp, type AppDeps } from './app.js';
export { resolveServerOptions, type ServerOptions, type ResolvedServerOptions } from './config/server-options.js';
export { SERVER_DEFAULTS, SERVER_LIMITS } from './config/server-defaults.js';
export type { ServerHostAccess, HostAccessKey, HostBearerPrincipal } from './auth/host-access.js';
export { createSqliteStore, type SqliteStoreOptions } from './store/sqlite-store.js';
export {
  createMemoryStore,
  createMemoryDatabase,
  type MemoryStoreOptions,
  type MemoryDatabase,
} from './store/memory-store.js';
export type {
  Store,
  AccessKeyName,
  AccessKeyRecord,
  SigningKeyRecord,
  IdentityRecord,
  ResourceRecord,
  RevocationEvent,
  RevocationSnapshot,
  CreateIdentityInput,
  CreateIdentityResult,
  PruneInput,
  PruneResult,
} from './store/store.js';
export { rotateMasterKey } from './crypto/rotate-master-key.js';
export type { ResealReport } from './crypto/reseal-secrets.js';
export {
  revocationRetentionMs,
  startStatePruner,
  type StatePruner,
  type StatePrunerOptions,
  type PruneTotals,
} from './service/state-pruner.js';
export { WIRE_ERRORS, toWireError, type WireError, type ErrorBody } from './http/error-mapping.js';
