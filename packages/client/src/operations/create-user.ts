import type { ClientContext } from '../identity/client-context.js';
import type { CommunicationIdentity } from '../identity/models.js';
import { type CreateIdentityOptions, postIdentities } from './post-identities.js';

/** Options of {@link createUser}. */
export type CreateUserOptions = CreateIdentityOptions;

/** Creates an identity (`POST /identities` with no scopes). */
export async function createUser(
  context: ClientContext,
  options: CreateUserOptions = {},
): Promise<CommunicationIdentity> {
  return (await postIdentities(context, 'createUser', {}, options)).identity;
}
