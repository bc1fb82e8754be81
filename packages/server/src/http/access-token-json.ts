import type { AccessToken } from '../service/identity-service.js';

/** The content type of every JSON answer, as Fastify sets it for serialized objects. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * `{"token":…,"expiresOn":…}` exactly as `JSON.stringify` writes it, for the issue route (Fastify sends a JSON string
 * without its serializer). Only for what the identity service mints: a token is base64url and dots, `expiresOn` is
 * `formatServiceDate` output (digits and `-:.+T`), so nothing needs escaping and no scan for it is paid.
 */
export function accessTokenJson(accessToken: AccessToken): string {
  return `{"token":"${accessToken.token}","expiresOn":"${accessToken.expiresOn}"}`;
}
