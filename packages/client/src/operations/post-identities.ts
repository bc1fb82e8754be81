import type { TokenScope } from '@tessera/core';
import {
  type ClientContext,
  type OperationOptions,
  featureApiVersion,
  hasRepeatability,
  readAccessToken,
  readIdentity,
  readObject,
  routeUrl,
} from '../identity/client-context.js';
import type { AccessTokenResult, CommunicationIdentity } from '../identity/models.js';
import type { PipelineResponse } from '../http/http-pipeline.js';

/** Options shared by `createUser` and `createUserAndToken`. */
export interface CreateIdentityOptions extends OperationOptions {
  /**
   * Your own id for the user (1..256 chars). Creating again with the same customId returns the same
   * identity. Needs api-version 2025-03-02-preview, which the client then uses for this call.
   */
  customId?: string;
  /**
   * Idempotency key for `Repeatability-Request-ID` (a UUID). Default: a fresh UUID per call, reused across
   * its retries. Pass your own to make a create idempotent across process restarts.
   */
  repeatabilityRequestId?: string;
}

/** Result of `POST /identities`. */
export interface PostIdentitiesResult {
  identity: CommunicationIdentity;
  accessToken?: AccessTokenResult;
  response: PipelineResponse;
}

/**
 * `POST /identities`. Retried only with an idempotency key: the `Repeatability-*` headers (when the
 * api-version defines them and `repeatability` is on) or a `customId` (create-by-customId is idempotent).
 */
export async function postIdentities(
  context: ClientContext,
  operation: string,
  body: { createTokenWithScopes?: readonly TokenScope[]; expiresInMinutes?: number },
  options: CreateIdentityOptions,
): Promise<PostIdentitiesResult> {
  const apiVersion = options.customId === undefined ? context.apiVersion : featureApiVersion(context);
  const headers: Record<string, string> = {};
  const repeatable = context.repeatability && hasRepeatability(apiVersion);
  if (repeatable) {
    headers['repeatability-request-id'] = options.repeatabilityRequestId ?? context.pipeline.newId();
    headers['repeatability-first-sent'] = new Date(context.pipeline.clock.now()).toUTCString();
  }
  const response = await context.pipeline.send({
    operation,
    method: 'POST',
    url: routeUrl(context, '/identities', apiVersion),
    body: options.customId === undefined ? body : { ...body, customId: options.customId },
    headers,
    retryable: repeatable || options.customId !== undefined,
    abortSignal: options.abortSignal,
  });
  const o = readObject(response.body);
  const identity = readIdentity(operation, response, o?.identity);
  if (o?.accessToken === undefined || o.accessToken === null) return { identity, response };
  return { identity, accessToken: readAccessToken(operation, response, o.accessToken), response };
}
