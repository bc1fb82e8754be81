import { isTesseraClientError } from '../errors/tessera-client-error.js';
import { type ClientContext, type OperationOptions, identityPath, routeUrl } from '../identity/client-context.js';
import type { UserReference } from '../identity/models.js';

/**
 * Deletes the identity and revokes its tokens (`DELETE /identities/{id}`). When a retry finds the identity
 * already gone, an earlier attempt did the delete whose answer was lost, so that counts as success.
 */
export async function deleteUser(
  context: ClientContext,
  user: UserReference,
  options: OperationOptions = {},
): Promise<void> {
  try {
    await context.pipeline.send({
      operation: 'deleteUser',
      method: 'DELETE',
      url: routeUrl(context, identityPath(user), context.apiVersion),
      retryable: true,
      abortSignal: options.abortSignal,
      notFoundCode: 'ERR_IDENTITY_NOT_FOUND',
    });
  } catch (error) {
    const gone =
      isTesseraClientError(error, 'ERR_IDENTITY_DELETED') || isTesseraClientError(error, 'ERR_IDENTITY_NOT_FOUND');
    if (gone && (error.attempts ?? 1) > 1) return;
    throw error;
  }
}
