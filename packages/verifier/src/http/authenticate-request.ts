import type { Verifier } from '../create-verifier.js';
import type { VerifiedToken } from '../verified-token.js';
import { type AuthorizationRequirement, checkAuthorization } from './check-authorization.js';
import { errorToResponse } from './error-response.js';

/** The outcome of {@link authenticateRequest}: the token, or the ready-made error `Response` to return. */
export type RequestAuthentication =
  | { readonly ok: true; readonly token: VerifiedToken }
  | { readonly ok: false; readonly response: Response };

/**
 * For fetch-style servers (Deno, Bun, Cloudflare Workers, Hono, Node's `Request`): verifies the request's Bearer
 * token and optional capability, and hands back either the verified token or the 401/403/503 `Response`.
 */
export async function authenticateRequest(
  verifier: Verifier,
  request: Request,
  requirement: AuthorizationRequirement<Request> = {},
): Promise<RequestAuthentication> {
  const outcome = await checkAuthorization(verifier, request.headers.get('authorization'), request, requirement);
  return outcome.ok ? outcome : { ok: false, response: errorToResponse(outcome.error) };
}

/** {@link authenticateRequest} bound to a verifier and requirement: a `(Request) => Promise<…>` guard. */
export function createRequestAuthenticator(
  verifier: Verifier,
  requirement: AuthorizationRequirement<Request> = {},
): (request: Request) => Promise<RequestAuthentication> {
  return (request) => authenticateRequest(verifier, request, requirement);
}
