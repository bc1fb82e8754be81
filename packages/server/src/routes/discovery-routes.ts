import type { FastifyInstance } from 'fastify';
import type { PublicJwk } from '../crypto/signing-key.js';
import type { ResourceContext } from '../service/resource-context.js';

/** What the discovery routes need. */
export interface DiscoveryRouteDeps {
  readonly resource: ResourceContext;
  /** The published signing keys, active and retired. */
  readonly jwks: () => readonly PublicJwk[];
  /** The public endpoint (`http://host:port/`). */
  readonly endpoint: () => string;
}

/** `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: public, unauthenticated. */
export function registerDiscoveryRoutes(app: FastifyInstance, deps: DiscoveryRouteDeps): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return { keys: deps.jwks() };
  });

  app.get('/.well-known/openid-configuration', async () => {
    const endpoint = deps.endpoint();
    return {
      issuer: deps.resource.issuer,
      jwks_uri: `${endpoint}.well-known/jwks.json`,
      introspection_endpoint: `${endpoint}tokens/:introspect`,
      revocation_feed_endpoint: `${endpoint}revocations`,
      tessera_audience: deps.resource.audience,
      tessera_resource_id: deps.resource.resourceId,
      id_token_signing_alg_values_supported: ['ES256'],
      token_contract_version: 1,
    };
  });
}
