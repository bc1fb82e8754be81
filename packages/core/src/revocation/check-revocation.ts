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
  const code = revocationCode(claims, state.identity, state.accessKeys);
  if (code !== undefined) throw new TesseraError(code, REVOCATION_MESSAGES[code]);
}

/** Why a token is revoked, as an error code; undefined when it is not. */
export type RevocationCode = 'ERR_TOKEN_IDENTITY_DELETED' | 'ERR_TOKEN_REVOKED' | 'ERR_TOKEN_KEY_ROTATED';

/** The fixed message of each revocation code, as {@link checkRevocation} throws it. */
export const REVOCATION_MESSAGES: Readonly<Record<RevocationCode, string>> = {
  ERR_TOKEN_IDENTITY_DELETED: 'The identity of this token has been deleted.',
  ERR_TOKEN_REVOKED: 'The tokens of this identity have been revoked.',
  ERR_TOKEN_KEY_ROTATED: 'The access key that minted this token has been regenerated.',
};

/**
 * {@link checkRevocation} without throwing or allocating, for a verifier's per-request path: the code of the first
 * failing rule, or undefined. `identity` undefined means unknown, judged as deleted.
 */
export function revocationCode(
  claims: Pick<TokenClaims, 'rev' | 'akv'>,
  identity: IdentityRevocationState | undefined,
  accessKeys: AccessKeyVersions,
): RevocationCode | undefined {
  if (identity === undefined || identity.deleted) return 'ERR_TOKEN_IDENTITY_DELETED';
  if (claims.rev < identity.epoch) return 'ERR_TOKEN_REVOKED';
  if (claims.akv !== undefined) {
    const ref = parseAccessKeyRef(claims.akv);
    if (ref === undefined || accessKeys[ref.name] !== ref.version) return 'ERR_TOKEN_KEY_ROTATED';
  }
  return undefined;
}
