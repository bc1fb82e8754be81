import { isTesseraError, TesseraError } from '@tessera/core';
import type { OidcVerifier, VerifiedOidcToken } from '@tessera/oidc';
import type { AccessToken, IdentityService } from '../service/identity-service.js';
import type { ExternalIdFormat, TrustedIssuer } from './oidc-trusted-issuers.js';
import type { Principal } from './principal.js';
import { firstClaim, normalizePrincipalId } from './roles.js';

/** Dependencies of {@link createTokenExchange}. */
export interface TokenExchangeDeps {
  readonly verifier: OidcVerifier<TrustedIssuer>;
  readonly service: IdentityService;
  readonly clock: () => number;
}

/** The result of an exchange: the wire body and the identity it was minted for (for logs and audit). */
export interface ExchangeResult {
  readonly identityId: string;
  readonly accessToken: AccessToken;
}

/**
 * `POST /teamsUser/:exchangeAccessToken`, generalised to any trusted issuer whose policy enables it: a user's
 * token from that issuer becomes a communication token for a stable identity of that user.
 */
export interface TokenExchange {
  exchange(body: Record<string, unknown>, principal: Principal): Promise<ExchangeResult>;
}

/** The customId an external user maps to: the same identity every time (until it is deleted). */
export function externalCustomId(issuer: string, userId: string): string {
  return `ext:${issuer}#${normalizePrincipalId(userId)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPAQUE_ID = /^[\x21-\x7e]{1,256}$/;
const MAX_LIFETIME_SECONDS = 1440 * 60;

function validation(message: string, target: string): TesseraError {
  return new TesseraError('ERR_VALIDATION', message, { target });
}

/**
 * The service's one answer for every unusable token (docs/spec/wire-protocol.md §7), whatever the precise reason. An issuer whose
 * keys cannot be fetched says nothing about the token, so it stays a 503 the caller may retry.
 */
function invalidToken(cause?: unknown): TesseraError {
  if (isTesseraError(cause, 'ERR_ISSUER_UNAVAILABLE')) return cause;
  const code = isTesseraError(cause) && cause.code.startsWith('ERR_TOKEN_') ? cause.code : 'ERR_TOKEN_MALFORMED';
  return new TesseraError(code, 'Provided access token is not valid.');
}

function required(body: Record<string, unknown>, field: string, label: string): unknown {
  const value = body[field];
  if (value === undefined || value === null || value === '') {
    throw validation(`${label}: The ${label} field is required.`, label);
  }
  return value;
}

function hasFormat(value: unknown, format: ExternalIdFormat): value is string {
  return typeof value === 'string' && (format === 'uuid' ? UUID.test(value) : OPAQUE_ID.test(value));
}

/** Creates the exchange. Validation order: required fields, the token, id formats, then the id matches. */
export function createTokenExchange(deps: TokenExchangeDeps): TokenExchange {
  return {
    async exchange(body, principal) {
      const appId = required(body, 'appId', 'AppId');
      const userId = required(body, 'userId', 'UserId');
      const token = body.token;
      if (token === undefined || token === null) throw validation('Token: The Token field is required.', 'Token');
      if (typeof token !== 'string' || token === '') throw invalidToken();

      let verified: VerifiedOidcToken<TrustedIssuer>;
      try {
        verified = await deps.verifier.verify(token);
      } catch (error) {
        throw invalidToken(error);
      }
      const policy = verified.trustedIssuer.exchange;
      const now = deps.clock();
      if (policy === undefined) throw invalidToken(new TesseraError('ERR_TOKEN_WRONG_ISSUER'));
      if (verified.expiresAt * 1000 <= now) throw invalidToken(new TesseraError('ERR_TOKEN_EXPIRED'));

      if (!hasFormat(appId, policy.idFormat)) throw validation('Provided AppId has invalid format.', 'appId');
      if (!hasFormat(userId, policy.idFormat)) throw validation('Provided UserId has invalid format.', 'userId');
      const tokenApp = firstClaim(verified.claims, ['appid', 'azp', 'client_id']);
      if (tokenApp === undefined || normalizePrincipalId(tokenApp) !== normalizePrincipalId(appId)) {
        throw validation('AAD application is not the expected one.', 'appId');
      }
      const tokenUser = firstClaim(verified.claims, ['oid', 'sub']);
      if (tokenUser === undefined || normalizePrincipalId(tokenUser) !== normalizePrincipalId(userId)) {
        throw validation('Provided AAD token issued for unexpected user.', 'userId');
      }

      const identity = await deps.service.getOrCreate(externalCustomId(verified.issuer, userId));
      const expiresAt = Math.min(verified.expiresAt, Math.floor(now / 1000) + MAX_LIFETIME_SECONDS);
      const accessToken = await deps.service.issueUntil(identity, policy.scopes, expiresAt, principal);
      return {
        identityId: identity.id,
        accessToken,
      };
    },
  };
}
