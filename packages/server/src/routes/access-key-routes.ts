import type { FastifyInstance } from 'fastify';
import { TesseraError } from '@tessera/core';
import type { KeyRing } from '../auth/key-ring.js';
import type { AcsRoute } from '../http/route.js';
import type { AccessKeyName } from '../store/store.js';

/** What the access key routes need. */
export interface AccessKeyRouteDeps {
  /** The live access keys. */
  readonly keys: KeyRing;
  /** The public endpoint (`http://host:port/`) for connection strings. */
  readonly endpoint: () => string;
  /** Replaces one key (service/access-key-service.ts). */
  readonly regenerateKey: (name: 'primary' | 'secondary' | 'verifier') => Promise<void>;
}

/** `GET /admin/keys` and `POST /admin/keys/:regenerate`: the access keys and their connection strings. */
export function registerAccessKeyRoutes(app: FastifyInstance, acs: AcsRoute, deps: AccessKeyRouteDeps): void {
  const keysBody = () => {
    const endpoint = deps.endpoint();
    const get = (name: AccessKeyName) => deps.keys.get(name)?.base64 ?? '';
    const cs = (name: AccessKeyName) => `endpoint=${endpoint};accesskey=${get(name)}`;
    return {
      primaryKey: get('primary'),
      secondaryKey: get('secondary'),
      verifierKey: get('verifier'),
      primaryConnectionString: cs('primary'),
      secondaryConnectionString: cs('secondary'),
      verifierConnectionString: cs('verifier'),
    };
  };

  app.get(
    '/admin/keys',
    acs({ operation: 'admin.keys.list', apiVersion: 'optional', action: 'keys/read' }, async () => keysBody()),
  );

  app.post(
    '/admin/keys/::regenerate',
    acs(
      { operation: 'admin.keys.regenerate', apiVersion: 'optional', action: 'keys/write' },
      async (request, _reply, { body }) => {
        const key = body.key;
        if (key !== 'primary' && key !== 'secondary' && key !== 'verifier') {
          throw new TesseraError('ERR_VALIDATION', "Key: must be 'primary', 'secondary' or 'verifier'.", {
            target: 'key',
          });
        }
        request.auditDetail = `key=${key}`;
        await deps.regenerateKey(key);
        return keysBody();
      },
    ),
  );
}
