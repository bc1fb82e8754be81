import type { FastifyInstance } from 'fastify';
import type { TokenExchange } from '../auth/token-exchange.js';
import type { AcsRoute } from '../http/route.js';

/** `POST /teamsUser/:exchangeAccessToken`: an Entra ID / OIDC token exchanged for a Tessera access token. */
export function registerTokenExchangeRoutes(app: FastifyInstance, acs: AcsRoute, exchange: TokenExchange): void {
  app.post(
    '/teamsUser/::exchangeAccessToken',
    acs(
      {
        operation: 'token.exchange',
        apiVersion: 'required',
        requires: 'teamsExchange',
        action: 'tokens/exchange',
        rateLimit: 'exchange',
      },
      async (request, _reply, { principal, body }) => {
        const result = await exchange.exchange(body, principal);
        request.identityId = result.identityId;
        return result.accessToken;
      },
    ),
  );
}
