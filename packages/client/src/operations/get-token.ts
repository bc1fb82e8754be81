import type { TokenScope } from '@tessera/core';
import {
  type ClientContext,
  type OperationOptions,
  identityPath,
  readAccessToken,
  routeUrl,
} from '../identity/client-context.js';
import type { AccessTokenResult, UserReference } from '../identity/models.js';

/** Options of {@link getToken}. */
export interface GetTokenOptions extends OperationOptions {
  /** Token lifetime, 60..1440 minutes; the service default is 1440. */
  expiresInMinutes?: number;
}

/**
 * Issues a user access token (`POST /identities/{id}/:issueAccessToken`). Retried on transient failures:
 * a duplicate issue only mints one more token, it changes nothing else.
 */
export async function getToken(
  context: ClientContext,
  user: UserReference,
  scopes: readonly TokenScope[],
  options: GetTokenOptions = {},
): Promise<AccessTokenResult> {
  const body: { scopes: readonly TokenScope[]; expiresInMinutes?: number } = { scopes };
  if (options.expiresInMinutes !== undefined) body.expiresInMinutes = options.expiresInMinutes;
  const response = await context.pipeline.send({
    operation: 'getToken',
    method: 'POST',
    url: routeUrl(context, `${identityPath(user)}/:issueAccessToken`, context.apiVersion),
    body,
    retryable: true,
    abortSignal: options.abortSignal,
    notFoundCode: 'ERR_IDENTITY_NOT_FOUND',
  });
  return readAccessToken('getToken', response, response.body);
}
