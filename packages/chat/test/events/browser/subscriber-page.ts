/// <reference lib="dom" />
// The page of browser-subscriber.test.ts: @tessera/client's subscribeChatEvents, bundled for the browser, showing the
// messages it hears. The test hands the page its token through page.evaluate (never through a URL).
import { type ChatStreamEvent, subscribeChatEvents } from '@tessera/client';

interface PageState {
  events: ChatStreamEvent[];
  states: string[];
  errors: string[];
}

const state: PageState = { events: [], states: [], errors: [] };
const scope = globalThis as unknown as {
  chatState: PageState;
  startChat: (token: string) => void;
  sendChat: (token: string, threadId: string, content: string) => Promise<number>;
};
scope.chatState = state;

scope.startChat = (token: string) => {
  subscribeChatEvents({
    endpoint: `${location.origin}/`,
    credential: { getToken: async () => ({ token }) },
    onEvent: (event) => {
      state.events.push(event);
      if (event.type === 'chatMessageReceived') {
        const message = event.message as { content: string; sender: { displayName?: string } };
        const li = document.createElement('li');
        li.textContent = `${message.sender.displayName ?? '?'}: ${message.content}`;
        document.getElementById('messages')?.append(li);
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

scope.sendChat = async (token: string, threadId: string, content: string) => {
  const r = await fetch(`/chat/threads/${encodeURIComponent(threadId)}/messages?api-version=2025-03-15`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content, senderDisplayName: document.title }),
  });
  return r.status;
};
