import type { TokenClaims, TokenScope } from '@tessera/core';

/** What a successful {@link Verifier.verify} yields. Frozen; the same object may be returned for the same token. */
export interface VerifiedToken {
  /** The identity the token speaks for: its raw id `8:acs:<resourceId>_<userId>` (the `sub` claim). */
  readonly identity: string;
  /** The token's scopes, in token order. */
  readonly scopes: readonly TokenScope[];
  /** Expiry, Unix milliseconds (`exp * 1000`). */
  readonly expiresAt: number;
  /** Issue time, Unix milliseconds (`iat * 1000`). */
  readonly issuedAt: number;
  /** The Communication Services resource id the identity belongs to. */
  readonly resource: string;
  /** The resource's data location (`resourceLocation`). */
  readonly resourceLocation: string;
  /** The token's unique id (`jti`): safe to log, unlike the token. */
  readonly tokenId: string;
  /** Every claim, as verified. */
  readonly claims: TokenClaims;
}
