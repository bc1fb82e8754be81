import { TesseraError } from '../errors.js';
import type { TokenClaims } from './claims.js';

/** Options for {@link checkTokenTimes}. */
export interface CheckTokenTimesOptions {
  /** Now, Unix milliseconds. */
  nowMs: number;
  /** Tolerated clock skew in seconds (default 0). */
  leewaySeconds?: number;
}

/** Throws `ERR_TOKEN_EXPIRED` or `ERR_TOKEN_NOT_YET_VALID` when `now` is outside [nbf, exp). */
export function checkTokenTimes(claims: Pick<TokenClaims, 'exp' | 'nbf'>, options: CheckTokenTimesOptions): void {
  const leeway = (options.leewaySeconds ?? 0) * 1000;
  // Fail closed: a NaN clock or leeway would make both comparisons false and accept anything.
  if (!Number.isFinite(options.nowMs) || !Number.isFinite(leeway) || leeway < 0) {
    throw new TesseraError('ERR_TOKEN_EXPIRED', 'Token times cannot be checked against an invalid clock.');
  }
  if (options.nowMs >= claims.exp * 1000 + leeway) {
    throw new TesseraError('ERR_TOKEN_EXPIRED', 'Token has expired.');
  }
  if (options.nowMs + leeway < claims.nbf * 1000) {
    throw new TesseraError('ERR_TOKEN_NOT_YET_VALID', 'Token is not yet valid.');
  }
}
