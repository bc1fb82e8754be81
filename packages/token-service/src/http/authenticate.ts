import { isTesseraError } from '@tessera/core';
import type { OidcVerifier } from '@tessera/oidc';
import type { FastifyRequest } from 'fastify';
import type { AppPrincipal, AppUser } from '../auth/app-principal.js';
import type { VerifyAppToken } from '../config/token-service-options.js';
import { TokenServiceError, isTokenServiceError } from '../errors/token-service-error.js';
import { readRoles } from '../policy/resolve-grant.js';

/** What the `Authorization` header carried. */
export type Caller =
  | { readonly kind: 'user'; readonly user: AppUser }
  | { readonly kind: 'session'; readonly secret: string }
  | { readonly kind: 'guest'; readonly principal: AppPrincipal };

/** Everything {@link authenticateCaller} needs. */
export interface AuthenticateDeps {
  readonly verifier: OidcVerifier | undefined;
  readonly verify: VerifyAppToken | undefined;
  readonly anonymous: boolean;
  readonly rolesClaim: string;
}

/** Verifies an app token (OIDC first, then the custom verify function) into an {@link AppUser}. */
export async function verifyAppToken(token: string, request: FastifyRequest, deps: AuthenticateDeps): Promise<AppUser> {
  let verified: { issuer: string; subject: string; claims: Readonly<Record<string, unknown>> } | undefined;
  let oidcError: unknown;
  if (deps.verifier !== undefined) {
    try {
      verified = await deps.verifier.verify(token);
    } catch (error) {
      oidcError = error;
    }
  }
  const untrustedIssuer = oidcError === undefined || isTesseraError(oidcError, 'ERR_TOKEN_WRONG_ISSUER');
  if (verified === undefined && deps.verify !== undefined && untrustedIssuer) {
    try {
      const custom = await deps.verify(token, request);
      verified = { issuer: custom.issuer, subject: custom.subject, claims: custom.claims ?? {} };
    } catch (error) {
      if (isTokenServiceError(error)) throw error;
      throw new TokenServiceError('ERR_TOKEN_BAD_SIGNATURE', 'The app token was refused by the verify function.');
    }
    if (
      typeof verified.issuer !== 'string' ||
      verified.issuer === '' ||
      typeof verified.subject !== 'string' ||
      verified.subject === ''
    ) {
      throw new TokenServiceError('ERR_INTERNAL', 'The verify function returned no issuer or subject.');
    }
  }
  if (verified === undefined) throw oidcError;
  return {
    kind: 'user',
    issuer: verified.issuer,
    subject: verified.subject,
    roles: readRoles(verified.claims, deps.rolesClaim),
    claims: verified.claims,
  };
}

/**
 * Reads `Authorization`: `Bearer <app token>` (verified), `Session <secret>` (checked by the route), or nothing
 * (a guest when anonymous mode is on, else 401).
 */
export async function authenticateCaller(request: FastifyRequest, deps: AuthenticateDeps): Promise<Caller> {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '') {
    if (!deps.anonymous) {
      throw new TokenServiceError('ERR_AUTH_MISSING', 'Sign in first: send Authorization: Bearer <your app token>.');
    }
    return { kind: 'guest', principal: { kind: 'guest' } };
  }
  const match = /^(\w+) +(\S+)\s*$/.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const value = match?.[2] ?? '';
  if (scheme === 'bearer') return { kind: 'user', user: await verifyAppToken(value, request, deps) };
  if (scheme === 'session') return { kind: 'session', secret: value };
  throw new TokenServiceError(
    'ERR_AUTH_UNSUPPORTED_SCHEME',
    'Authorization must be "Bearer <app token>" or "Session <session secret>".',
  );
}
