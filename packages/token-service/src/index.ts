export { tokenServicePlugin, type TokenServicePluginOptions, type TokenServiceHandle } from './token-service-plugin.js';
export { startTokenService, type StartTokenServiceOptions, type RunningTokenService } from './start-token-service.js';
export { TOKEN_SERVICE_DEFAULTS, TOKEN_SERVICE_LIMITS } from './config/token-service-defaults.js';
export {
  resolveTokenServiceOptions,
  type TokenServiceOptions,
  type ResolvedTokenServiceOptions,
  type TrustedIssuer,
  type VerifyAppToken,
  type VerifiedAppUser,
  type DemoOidcSettings,
} from './config/token-service-options.js';
export {
  parsePolicy,
  loadPolicyFile,
  policyAllowsGuests,
  type Policy,
  type PolicyRule,
  type PolicyMatch,
  type IdentityMode,
} from './policy/policy.js';
export {
  resolveGrant,
  grantFromRule,
  matchRule,
  readRoles,
  parseRequestedScopes,
  parseRequestedLifetime,
  type Grant,
  type TokenRequest,
} from './policy/resolve-grant.js';
export type { AppPrincipal, AppUser, AppGuest } from './auth/app-principal.js';
// App tokens are verified by @tessera/oidc; its algorithm list is re-exported for `TrustedIssuer.algorithms`.
export { JWS_ALGORITHMS, type JwsAlgorithm } from '@tessera/oidc';
export { customIdFor, sessionCustomId } from './mapping/custom-id.js';
export { sweepEphemeralIdentities, type SweepOptions, type SweepResult } from './mapping/sweep-ephemeral-identities.js';
export { createTokenBox, type TokenBox } from './crypto/token-box.js';
export {
  openTokenServiceStore,
  type TokenServiceStore,
  type SessionRecord,
  type BucketTake,
} from './store/token-service-store.js';
export {
  openPostgresTokenServiceStore,
  type PostgresTokenServiceStoreOptions,
} from './store/postgres-token-service-store.js';
export { createKeyBuckets, createStoreKeyBuckets, parseRateRule, type KeyBuckets } from './limits/key-buckets.js';
export {
  TOKEN_SERVICE_ERRORS,
  TokenServiceError,
  isTokenServiceError,
  toErrorResponse,
  type TokenServiceErrorCode,
  type TokenServiceErrorBody,
  type TokenServiceErrorOptions,
} from './errors/token-service-error.js';
export {
  startDevOidcProvider,
  defaultDevRoles,
  type DevOidcProvider,
  type DevOidcProviderOptions,
} from './dev/dev-oidc-provider.js';
export {
  createTokenServiceMetrics,
  type TokenServiceLimit,
  type TokenServiceMetrics,
} from './metrics/token-service-metrics.js';
