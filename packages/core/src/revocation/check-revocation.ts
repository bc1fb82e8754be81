import { TesseraError } from '../errors.js';
import { parseAccessKeyRef, type TokenClaims } from '../tokens/claims.js';

/** What revocation needs to know about one identity. */
export interface IdentityRevocationState {
  /** Tokens minted at an epoch below this are revoked. */
  readonly epoch: number;
  readonly deleted: boolean;
}

/** Current versions of the resource's access keys. */
export interface AccessKeyVersions {
  readonly primary: number;
  readonly secondary: number;
}

/** The revocation facts a token is judged against. */
export interface RevocationState {
  /** Undefined when the identity is unknown — treated as deleted. */
  readonly identity: IdentityRevocationState | undefined;
  readonly accessKeys: AccessKeyVersions;
}

/**
 * Decides whether a genuine, unexpired token has been revoked. Exact, not clock-guessing: a revoke bumps the
 * identity's epoch, so a token minted a millisecond before is rejected and one minted after is accepted.
 * Throws `ERR_TOKEN_IDENTITY_DELETED`, `ERR_TOKEN_REVOKED` or `ERR_TOKEN_KEY_ROTATED`.
 */
export function checkRevocation(claims: Pick<TokenClaims, 'rev' | 'akv'>, state: RevocationState): void {
  if (state.identity === undefined || state.identity.deleted) {
    throw new TesseraError('ERR_TOKEN_IDENTITY_DELETED', 'The identity of this token has been deleted.');
  }
  if (claims.rev < state.identity.epoch) {
    throw new TesseraError('ERR_TOKEN_REVOKED', 'The tokens of this identity have been revoked.');
  }
  if (claims.akv !== undefined) {
    const ref = parseAccessKeyRef(claims.akv);
    if (ref === undefined || state.accessKeys[ref.name] !== ref.version) {
      throw new TesseraError('ERR_TOKEN_KEY_ROTATED', 'The access key that minted this token has been regenerated.');
    }
  }
}
