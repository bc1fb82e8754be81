import type { AuthorizeContext, Capability } from '@tessera/core';
import type { Verifier } from '../create-verifier.js';
import type { VerifiedToken } from '../verified-token.js';
import { extractBearerToken } from './bearer-token.js';
import { capabilityError } from './error-response.js';

/** What a request must show, for the middlewares; `R` is the framework's request type. */
export interface AuthorizationRequirement<R> {
  /** The capability the route needs (fixed, or chosen per request); omit to only require a valid token. */
  capability?: Capability | ((request: R, token: VerifiedToken) => Capability);
  /** The facts the capability needs (room invitation and role, message sender), looked up per request. */
  context?: (request: R, token: VerifiedToken) => AuthorizeContext | Promise<AuthorizeContext>;
}

/** The outcome of {@link checkAuthorization}. */
export type AuthorizationOutcome =
  | { readonly ok: true; readonly token: VerifiedToken }
  | { readonly ok: false; readonly error: unknown };

/**
 * Verifies the Bearer token of an Authorization header and, when asked, authorizes a capability. Never throws:
 * failures come back as `{ ok: false, error }` for `errorResponse`.
 */
export async function checkAuthorization<R>(
  verifier: Verifier,
  authorizationHeader: string | null | undefined,
  request: R,
  requirement: AuthorizationRequirement<R> = {},
): Promise<AuthorizationOutcome> {
  try {
    const token = await verifier.verify(extractBearerToken(authorizationHeader));
    const cap = requirement.capability;
    if (cap !== undefined) {
      const capability = typeof cap === 'function' ? cap(request, token) : cap;
      const context = requirement.context === undefined ? {} : await requirement.context(request, token);
      const result = verifier.authorize(token, capability, context);
      if (!result.allowed) return { ok: false, error: capabilityError(result, capability) };
    }
    return { ok: true, token };
  } catch (error) {
    return { ok: false, error };
  }
}
