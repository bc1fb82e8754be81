import type { FastifyInstance } from 'fastify';
import { TesseraError } from '@tessera/core';
import type { AcsRoute } from '../http/route.js';
import type { IdentityService } from '../service/identity-service.js';

/** `POST /tokens/:introspect`: RFC 7662-style introspection for verifiers (no audit entry: a read path). */
export function registerIntrospectionRoutes(app: FastifyInstance, acs: AcsRoute, service: IdentityService): void {
  app.post(
    '/tokens/::introspect',
    acs(
      { operation: 'token.introspect', apiVersion: 'optional', action: 'tokens/introspect', audit: false },
      async (_request, _reply, { body }) => {
        if (typeof body.token !== 'string') {
          throw new TesseraError('ERR_VALIDATION', 'Token: The Token field is required.', { target: 'token' });
        }
        return service.introspect(body.token);
      },
    ),
  );
}
