import { TesseraError } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { AcsRoute } from '../http/route.js';
import type { SigningKeyRing } from '../crypto/signing-key-ring.js';

/**
 * How long a rotated-in signing key is published before it signs, by default: long enough for every server process
 * to load it (LISTEN/NOTIFY, or the reconnect reload) and for a verifier that fetched JWKS just before the rotation to
 * be allowed its next fetch on an unknown `kid` (`@tessera/verifier` refetches at most every 5 s).
 */
export const DEFAULT_SIGNING_KEY_ACTIVATION_SECONDS = 10;

/** Longest accepted `activateAfterSeconds`. */
const MAX_ACTIVATION_SECONDS = 86_400;

/** `GET /admin/signing-keys` and `POST /admin/signing-keys/:rotate` (docs/key-rotation.md). */
export function registerSigningKeyRoutes(app: FastifyInstance, acs: AcsRoute, ring: SigningKeyRing): void {
  app.get(
    '/admin/signing-keys',
    acs({ operation: 'admin.signingKeys.list', apiVersion: 'optional', action: 'keys/read' }, async () => ({
      keys: ring.list(),
    })),
  );

  app.post(
    '/admin/signing-keys/::rotate',
    acs(
      { operation: 'admin.signingKeys.rotate', apiVersion: 'optional', action: 'keys/write' },
      async (request, reply, { body }) => {
        const given = body.activateAfterSeconds;
        if (
          given !== undefined &&
          (typeof given !== 'number' || !Number.isInteger(given) || given < 0 || given > MAX_ACTIVATION_SECONDS)
        ) {
          throw new TesseraError(
            'ERR_VALIDATION',
            `ActivateAfterSeconds: must be an integer in [0, ${MAX_ACTIVATION_SECONDS}].`,
            { target: 'activateAfterSeconds' },
          );
        }
        const key = await ring.rotate((given ?? DEFAULT_SIGNING_KEY_ACTIVATION_SECONDS) * 1000);
        request.auditDetail = `kid=${key.kid}`;
        return reply.code(201).send({ key, keys: ring.list() });
      },
    ),
  );
}
