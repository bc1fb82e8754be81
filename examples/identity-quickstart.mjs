// The official Azure identity SDK against Tessera, unchanged.
// Run: npm start (in one terminal), then
//   TESSERA_CONNECTION_STRING="endpoint=http://127.0.0.1:8080/;accesskey=…" node examples/identity-quickstart.mjs
import { CommunicationIdentityClient } from '@azure/communication-identity';

const connectionString = process.env.TESSERA_CONNECTION_STRING;
if (!connectionString) {
  console.error('Set TESSERA_CONNECTION_STRING to the "Connection string: …" line that npm start printed.');
  process.exit(2);
}

const client = new CommunicationIdentityClient(connectionString, {
  allowInsecureConnection: true, // plain http on localhost; serve TLS in production
});
const { user, token, expiresOn } = await client.createUserAndToken(['chat', 'voip']);
console.log(
  `identity ${user.communicationUserId}: token of ${token.length} characters, expires ${expiresOn.toISOString()}`,
);

const refreshed = await client.getToken(user, ['chat.join'], { tokenExpiresInMinutes: 60 });
console.log(`narrower token (chat.join, 60 min) expires ${refreshed.expiresOn.toISOString()}`);

await client.revokeTokens(user);
await client.deleteUser(user);
console.log('revoked and deleted');
