import { TesseraError } from '@tessera/core';
import type { OidcVerifier } from '@tessera/oidc';
import type { BearerAuthenticator } from './authenticate.js';
import type { TrustedIssuer } from './oidc-trusted-issuers.js';
import type { Principal } from './principal.js';
import type { RolesRegistry } from './roles-registry.js';
import { firstClaim } from './roles.js';

/** Options of {@link createBearerAuthenticator}. */
export interface BearerAuthenticatorOptions {
  readonly verifier: OidcVerifier<TrustedIssuer>;
  readonly roles: RolesRegistry;
}

/**
 * Authenticates `Authorization: Bearer <jwt>` from a trusted OpenID Connect issuer (Entra ID, Keycloak, Auth0,
 * Kubernetes service-account tokens, …): the token is verified (signature, issuer, audience, expiry, not-before)
 * and the principal holds the data actions of its role assignments. A token without assignments authenticates
 * but holds nothing, so every route answers 403 naming the action it lacks.
 */
export function createBearerAuthenticator(options: BearerAuthenticatorOptions): BearerAuthenticator {
  return async (token): Promise<Principal> => {
    const verified = await options.verifier.verify(token);
    const { claims } = verified;
    // Entra's object id is stable across apps; everywhere else `sub` is the subject.
    const subject = firstClaim(claims, ['oid', 'sub']);
    if (subject === undefined) {
      throw new TesseraError('ERR_TOKEN_MALFORMED', "The bearer token names no subject ('oid' or 'sub').");
    }
    return {
      kind: 'bearer',
      issuer: verified.issuer,
      subject,
      actions: options.roles.actionsFor(verified.issuer, claims),
    };
  };
}
