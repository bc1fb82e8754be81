import { type ClientContext, type OperationOptions, identityPath, routeUrl } from '../identity/client-context.js';
import type { UserReference } from '../identity/models.js';

/**
 * Revokes every token issued to the identity so far (`POST /identities/{id}/:revokeAccessTokens`).
 * Retried on transient failures: a repeated revoke only also revokes tokens issued in between.
 */
export async function revokeTokens(
  context: ClientContext,
  user: UserReference,
  options: OperationOptions = {},
): Promise<void> {
  await context.pipeline.send({
    operation: 'revokeTokens',
    method: 'POST',
    url: routeUrl(context, `${identityPath(user)}/:revokeAccessTokens`, context.apiVersion),
    retryable: true,
    abortSignal: options.abortSignal,
    notFoundCode: 'ERR_IDENTITY_NOT_FOUND',
  });
}
