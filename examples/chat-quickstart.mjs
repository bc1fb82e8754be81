// The official Azure chat SDK against Tessera, unchanged: two users, a thread, a message each way.
// The SDK sends bearer tokens over HTTPS only, so start the server with its development TLS:
//   npm start -- --tls-dev        (in one terminal), then
//   TESSERA_CONNECTION_STRING="endpoint=https://127.0.0.1:8080/;accesskey=…" \
//   NODE_EXTRA_CA_CERTS=.tessera/tls/dev-ca.pem node examples/chat-quickstart.mjs
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient } from '@azure/communication-identity';

const connectionString = process.env.TESSERA_CONNECTION_STRING;
if (!connectionString) {
  console.error(
    'Set TESSERA_CONNECTION_STRING to the "Connection string: …" line that npm start -- --tls-dev printed.',
  );
  process.exit(2);
}
const endpoint = /endpoint=([^;]+)/i.exec(connectionString)[1];
const identity = new CommunicationIdentityClient(connectionString);
const alice = await identity.createUserAndToken(['chat']);
const bob = await identity.createUserAndToken(['chat.join']);

const aliceChat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(alice.token));
const { chatThread } = await aliceChat.createChatThread(
  { topic: 'Hello from Tessera' },
  { participants: [{ id: bob.user, displayName: 'Bob' }] },
);
await aliceChat.getChatThreadClient(chatThread.id).sendMessage({ content: 'Hi Bob!' }, { senderDisplayName: 'Alice' });

const bobThread = new ChatClient(endpoint, new AzureCommunicationTokenCredential(bob.token)).getChatThreadClient(
  chatThread.id,
);
await bobThread.sendMessage({ content: 'Hi Alice!' }, { senderDisplayName: 'Bob' });
for await (const m of bobThread.listMessages()) {
  console.log(m.sequenceId, m.type, m.content?.message ?? m.content?.topic ?? '');
}
