// The peer under the same load: node-oidc-provider's client_credentials grant issuing ES256 JWT access
// tokens for one resource server (features.clientCredentials + features.resourceIndicators, accessTokenFormat
// 'jwt'), default in-memory adapter, client_secret_basic authentication, no logging. Listens on 127.0.0.1,
// port 0, prints "listening on <url>" and the client id/secret the load generator needs.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const RESOURCE = 'urn:tessera:bench-resource';
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'chat voip',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [jwk] },
  scopes: ['chat', 'voip'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'chat voip',
          audience: RESOURCE,
          accessTokenTTL: 24 * 60 * 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error.message}\n`));
server.on('request', provider.callback());

process.stdout.write(`listening on ${issuer}/\nclient ${CLIENT_ID} ${CLIENT_SECRET} resource ${RESOURCE}\n`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
