// The HTTP ceiling for issue-token: a bare Fastify 5 app with one POST route on the same path as
// issueAccessToken. It parses the JSON body (Fastify's default parser) and answers a JSON
// `{token, expiresOn}` whose token is TOKEN_LENGTH characters (the size of a real Tessera token),
// without auth, storage or signing. Listens on 127.0.0.1:0 and prints "listening on <url>".
import Fastify from 'fastify';

const tokenLength = Number(process.env.TOKEN_LENGTH ?? 1000);
const token = 'e'.repeat(tokenLength);

const app = Fastify({ logger: false });
app.post('/identities/:id/::issueAccessToken', async (request) => {
  const body = request.body ?? {};
  return {
    token,
    expiresOn: new Date(Date.now() + 86_400_000).toISOString(),
    scopes: Array.isArray(body.scopes) ? body.scopes.length : 0,
  };
});
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address();
process.stdout.write(`listening on http://127.0.0.1:${port}/\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
