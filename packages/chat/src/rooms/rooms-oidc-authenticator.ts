import { TesseraError } from '@tessera/core';
import { createOidcVerifier, type OidcIssuer, type OidcVerifierOptions } from '@tessera/oidc';
import type { RoomsBearerAuthenticator, RoomsDataAction, RoomsPrincipal } from './rooms-auth.js';

/** Grants data actions to the tokens whose claim `claim` equals (or, for an array claim, contains) `value`. */
export interface RoomsActionGrant {
  /** e.g. `roles` (Entra app roles), `groups`, `sub`, `azp`. */
  readonly claim: string;
  readonly value: string;
  readonly actions: readonly RoomsDataAction[];
}

/** A trusted issuer with the grants its tokens may earn. */
export interface RoomsOidcIssuer extends OidcIssuer {
  readonly grants: readonly RoomsActionGrant[];
}

/** Options of {@link createRoomsOidcAuthenticator}. */
export interface RoomsOidcAuthenticatorOptions extends Omit<OidcVerifierOptions<RoomsOidcIssuer>, 'issuers'> {
  readonly issuers: readonly RoomsOidcIssuer[];
}

function claimHas(claims: Readonly<Record<string, unknown>>, name: string, value: string): boolean {
  const claim = claims[name];
  if (typeof claim === 'string') return claim === value;
  return Array.isArray(claim) && claim.includes(value);
}

/**
 * Bearer authentication for a standalone Rooms service (`@tessera/oidc`): a token of a trusted issuer is verified
 * (signature, issuer, audience, times) and holds the actions of every grant whose claim matches. A token that
 * earns none authenticates but holds nothing, so every route answers 403 naming the action it lacks.
 */
export function createRoomsOidcAuthenticator(options: RoomsOidcAuthenticatorOptions): RoomsBearerAuthenticator {
  const verifier = createOidcVerifier<RoomsOidcIssuer>(options);
  return async (token): Promise<RoomsPrincipal> => {
    const verified = await verifier.verify(token);
    const actions = new Set<RoomsDataAction>();
    for (const grant of verified.trustedIssuer.grants) {
      if (claimHas(verified.claims, grant.claim, grant.value)) for (const action of grant.actions) actions.add(action);
    }
    const subject = typeof verified.claims.oid === 'string' ? verified.claims.oid : verified.subject;
    if (subject === '') throw new TesseraError('ERR_TOKEN_MALFORMED', 'The bearer token names no subject.');
    return { kind: 'bearer', issuer: verified.issuer, subject, actions };
  };
}
