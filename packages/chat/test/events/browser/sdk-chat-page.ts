/// <reference lib="dom" />
// The page of sdk-chat-browser.test.ts: the official @azure/communication-chat ChatClient, bundled for the browser,
// sends and creates; @tessera/client's subscribeChatEvents brings what the others do (the SDK's own real-time
// notifications need Microsoft's signalling service). The test hands the page its token through page.evaluate.
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { type ChatStreamEvent, subscribeChatEvents } from '@tessera/client';

interface PageState {
  events: ChatStreamEvent[];
  states: string[];
  errors: string[];
}
const state: PageState = { events: [], states: [], errors: [] };
let client: ChatClient | undefined;
let me = '';

function show(line: string): void {
  const li = document.createElement('li');
  li.textContent = line;
  document.getElementById('messages')?.append(li);
}

const scope = globalThis as unknown as Record<string, unknown>;
scope.chatState = state;

scope.startChat = (token: string, displayName: string) => {
  me = displayName;
  const h1 = document.getElementById('who');
  if (h1 !== null) h1.textContent = displayName;
  client = new ChatClient(location.origin, new AzureCommunicationTokenCredential(token));
  subscribeChatEvents({
    endpoint: `${location.origin}/`,
    credential: { getToken: async () => ({ token }) },
    onEvent: (event) => {
      state.events.push(event);
      if (event.type === 'chatThreadCreated') show(`thread "${String(event.topic)}" created`);
      if (event.type === 'chatMessageReceived') {
        const message = event.message as { content: string; sender: { displayName?: string } };
        show(`${message.sender.displayName ?? '?'}: ${message.content}`);
      }
    },
    onStateChange: (s) => {
      state.states.push(s);
      const el = document.getElementById('state');
      if (el !== null) el.textContent = s;
    },
    onError: (error) => state.errors.push(String(error)),
  });
};

scope.createThread = async (topic: string, otherId: string) => {
  const result = await client?.createChatThread(
    { topic },
    { participants: [{ id: { communicationUserId: otherId }, displayName: 'peer' }] },
  );
  return result?.chatThread?.id ?? '';
};

scope.sendMessage = async (threadId: string, content: string) => {
  const thread = client?.getChatThreadClient(threadId);
  const result = await thread?.sendMessage({ content }, { senderDisplayName: me });
  return result?.id ?? '';
};
