import {
  type ClientContext,
  type OperationOptions,
  featureApiVersion,
  identityPath,
  readIdentity,
  routeUrl,
} from '../identity/client-context.js';
import type { CommunicationIdentity, UserReference } from '../identity/models.js';

/** Reads an identity (`GET /identities/{id}`, api-version 2025-03-02-preview). */
export async function getUser(
  context: ClientContext,
  user: UserReference,
  options: OperationOptions = {},
): Promise<CommunicationIdentity> {
  const response = await context.pipeline.send({
    operation: 'getUser',
    method: 'GET',
    url: routeUrl(context, identityPath(user), featureApiVersion(context)),
    retryable: true,
    abortSignal: options.abortSignal,
    notFoundCode: 'ERR_IDENTITY_NOT_FOUND',
  });
  return readIdentity('getUser', response, response.body);
}
