import type { Logger } from 'pino';
import { createOidcVerifier, type OidcVerifier } from '@tessera/oidc';
import { type AuditLog, createAuditLog } from '../audit/audit-log.js';
import type { BearerAuthenticator } from '../auth/authenticate.js';
import { createBearerAuthenticator } from '../auth/bearer-authenticator.js';
import type { TrustedIssuer } from '../auth/oidc-trusted-issuers.js';
import { createRolesRegistry, type RolesRegistry } from '../auth/roles-registry.js';
import type { ResolvedServerOptions } from '../config/server-options.js';
import type { Store } from '../store/store.js';

/** What {@link openAccessControl} hands on. */
export interface AccessControl {
  readonly roles: RolesRegistry;
  readonly verifier: OidcVerifier<TrustedIssuer>;
  readonly audit: AuditLog;
  /** Bearer authentication by role assignment; absent without trusted issuers. */
  readonly bearer: BearerAuthenticator | undefined;
  /** Re-reads role assignments when another process changed them (one cheap version read). */
  readonly refreshRoles: () => void;
}

/** Start-up step: Entra ID / OIDC — bearer authentication by role assignment, the token verifier and the audit log. */
export async function openAccessControl(
  options: ResolvedServerOptions,
  store: Store,
  clock: () => number,
  logger: Logger,
  onError: (error: unknown) => void,
): Promise<AccessControl> {
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
  return { roles, verifier, audit, bearer, refreshRoles };
}
