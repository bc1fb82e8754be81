import type { TokenScope } from '@tessera/core';
import { type ClientContext, unexpected } from '../identity/client-context.js';
import type { UserAndTokenResult } from '../identity/models.js';
import { type CreateIdentityOptions, postIdentities } from './post-identities.js';

/** Options of {@link createUserAndToken}. */
export interface CreateUserAndTokenOptions extends CreateIdentityOptions {
  /** Token lifetime, 60..1440 minutes; the service default is 1440. */
  expiresInMinutes?: number;
}

/** Creates an identity and issues it a token in one call. */
export async function createUserAndToken(
  context: ClientContext,
  scopes: readonly TokenScope[],
  options: CreateUserAndTokenOptions = {},
): Promise<UserAndTokenResult> {
  const body: { createTokenWithScopes: readonly TokenScope[]; expiresInMinutes?: number } = {
    createTokenWithScopes: scopes,
  };
  if (options.expiresInMinutes !== undefined) body.expiresInMinutes = options.expiresInMinutes;
  const result = await postIdentities(context, 'createUserAndToken', body, options);
  if (result.accessToken === undefined) {
    throw unexpected('createUserAndToken', result.response, 'has no access token');
  }
  return { user: result.identity, ...result.accessToken };
}
