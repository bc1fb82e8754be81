import type { FastifyInstance } from 'fastify';
import {
  parseCustomId,
  parseExpiresInMinutes,
  parseScopes,
  TesseraError,
  type ApiVersionFeatures,
} from '@tessera/core';
import { accessTokenJson, JSON_CONTENT_TYPE } from '../http/access-token-json.js';
import { type AcsRoute, idParam } from '../http/route.js';
import type { IdentityService } from '../service/identity-service.js';
import { formatServiceDate } from '../service/resource-context.js';
import type { IdentityRecord } from '../store/store.js';

function identityBody(identity: IdentityRecord, version: ApiVersionFeatures): Record<string, unknown> {
  if (!version.customIdAndGet) return { id: identity.id };
  const out: Record<string, unknown> = { id: identity.id };
  if (identity.customId !== undefined) out.customId = identity.customId;
  if (identity.lastTokenIssuedAt !== undefined) out.lastTokenIssuedAt = formatServiceDate(identity.lastTokenIssuedAt);
  return out;
}

/**
 * The ACS Identity operations: `POST /identities`, `GET`/`DELETE /identities/:id`,
 * `POST /identities/:id/:revokeAccessTokens` and the hot path `POST /identities/:id/:issueAccessToken`.
 */
export function registerIdentityRoutes(app: FastifyInstance, acs: AcsRoute, service: IdentityService): void {
  app.post(
    '/identities',
    acs(
      { operation: 'identity.create', apiVersion: 'required', action: 'identities/create', rateLimit: 'create' },
      async (request, reply, { version, principal, body }) => {
        const scopesGiven = body.createTokenWithScopes;
        const scopes =
          scopesGiven === undefined || scopesGiven === null
            ? undefined
            : parseScopes(scopesGiven, { allowed: version.scopes, field: 'createTokenWithScopes' });
        const lifetimeMinutes = version.customExpiry ? parseExpiresInMinutes(body.expiresInMinutes) : 1440;
        const customId = version.customIdAndGet ? parseCustomId(body.customId) : undefined;
        const repeat = request.headers['repeatability-request-id'];
        let requestKey: string | undefined;
        if (version.repeatability && typeof repeat === 'string' && repeat !== '') {
          if (!/^[0-9a-f-]{36}$/i.test(repeat)) {
            throw new TesseraError('ERR_VALIDATION', 'Repeatability-Request-ID must be a UUID.', {
              target: 'Repeatability-Request-ID',
            });
          }
          requestKey = repeat.toLowerCase();
        }
        const result = await service.create({ customId, requestKey, scopes, lifetimeMinutes, principal });
        request.identityId = result.identity.id;
        if (requestKey !== undefined) reply.header('repeatability-result', result.created ? 'accepted' : 'rejected');
        const out: Record<string, unknown> = { identity: identityBody(result.identity, version) };
        if (result.accessToken !== undefined) out.accessToken = result.accessToken;
        return reply.code(201).send(out);
      },
    ),
  );

  app.get(
    '/identities/:id',
    acs(
      { operation: 'identity.get', apiVersion: 'required', action: 'identities/read', requires: 'customIdAndGet' },
      async (request, _reply, { version }) => identityBody(await service.get(idParam(request)), version),
    ),
  );

  app.delete(
    '/identities/:id',
    acs(
      { operation: 'identity.delete', apiVersion: 'required', action: 'identities/delete', rateLimit: 'delete' },
      async (request, reply) => {
        await service.delete(idParam(request));
        return reply.code(204).send();
      },
    ),
  );

  app.post(
    '/identities/:id/::revokeAccessTokens',
    acs(
      { operation: 'identity.revokeTokens', apiVersion: 'required', action: 'tokens/revoke', rateLimit: 'revoke' },
      async (request, reply) => {
        await service.revoke(idParam(request));
        return reply.code(204).send();
      },
    ),
  );

  app.post(
    '/identities/:id/::issueAccessToken',
    acs(
      // Only refused issues are audited: successful ones are the hot path and would swamp the log; each still
      // writes its request log line (operation, identity, principal, status).
      {
        operation: 'identity.issueToken',
        apiVersion: 'required',
        action: 'tokens/issue',
        rateLimit: 'issue',
        audit: 'failures',
      },
      (request, reply, { version, principal, body }) => {
        const id = idParam(request);
        const scopes = parseScopes(body.scopes, { allowed: version.scopes, field: 'scopes' });
        const lifetimeMinutes = version.customExpiry ? parseExpiresInMinutes(body.expiresInMinutes) : 1440;
        // The hot path's body is written out here: Fastify sends a JSON string as it is, without its serializer.
        return service.issue(id, scopes, lifetimeMinutes, principal).then((accessToken) => {
          reply.type(JSON_CONTENT_TYPE);
          return accessTokenJson(accessToken);
        });
      },
    ),
  );
}
