import type { ClientContext, OperationOptions } from '../identity/client-context.js';
import { routeUrl } from '../identity/client-context.js';
import type { AccessKeyName, AccessKeys } from '../identity/models.js';
import { readAccessKeys } from './list-keys.js';

/**
 * Regenerates one access key (`POST /admin/keys/:regenerate`); tokens minted by requests signed with the
 * old key are revoked. Never retried: a second regenerate would throw away the key the first one made.
 */
export async function regenerateKey(
  context: ClientContext,
  key: AccessKeyName,
  options: OperationOptions = {},
): Promise<AccessKeys> {
  const response = await context.pipeline.send({
    operation: 'regenerateKey',
    method: 'POST',
    url: routeUrl(context, '/admin/keys/:regenerate'),
    body: { key },
    retryable: false,
    abortSignal: options.abortSignal,
  });
  return readAccessKeys('regenerateKey', response);
}
