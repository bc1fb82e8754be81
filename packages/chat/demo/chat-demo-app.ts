/// <reference lib="dom" />
// The chat demo page's script (docs/chat.md#demo), bundled by esbuild on first request: sign in as a guest at the
// token service, chat with the official @azure/communication-chat SDK, hear the other side through Tessera's event
// stream (subscribeChatEvents), and set / see presence (docs/presence.md).
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { type ChatStreamEvent, subscribeChatEvents } from '@tessera/client';

interface DemoConfig {
  readonly tokenService: string;
}
interface TokenAnswer {
  readonly token: string;
  readonly user: { readonly communicationUserId: string };
  readonly scopes: readonly string[];
  readonly session?: { readonly secret: string };
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const origin = location.origin;
let config: DemoConfig;
let me = '';
let token = '';
let session = '';
let chat: ChatClient | undefined;
let threadId = '';
let peer = '';

function log(line: string): void {
  $('log').textContent += `${line}\n`;
}

function show(sender: string, content: string): void {
  const li = document.createElement('li');
  li.textContent = `${sender === me ? 'me' : 'them'}: ${content}`;
  if (sender === me) li.className = 'mine';
  $('messages').append(li);
}

async function fetchToken(path: string, init: RequestInit = {}): Promise<TokenAnswer> {
  const response = await fetch(new URL(path, config.tokenService), init);
  if (!response.ok) throw new Error(`token service: ${response.status}`);
  return (await response.json()) as TokenAnswer;
}

async function refresh(): Promise<string> {
  const answer = await fetchToken('api/token/refresh', {
    method: 'POST',
    headers: { authorization: `Session ${session}` },
  });
  token = answer.token;
  return token;
}

async function presence(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`presence: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

function showPeerPresence(state: string, note: unknown): void {
  $('peer-presence').textContent = state;
  $('peer-note').textContent = typeof note === 'string' ? `“${note}”` : '';
}

async function openThread(id: string, other: string): Promise<void> {
  threadId = id;
  peer = other.toLowerCase();
  $('thread-id').textContent = id;
  $('peer').textContent = peer;
  $('chat').hidden = false;
  const answer = await presence('POST', '/presence:batchGet', { ids: [peer] });
  const first = (answer.value as { state: string; note?: string }[] | undefined)?.[0];
  if (first !== undefined) showPeerPresence(first.state, first.note);
}

function onEvent(event: ChatStreamEvent): void {
  if (event.type === 'chatThreadCreated' && threadId === '') {
    const creator = (event.createdBy as { rawId: string }).rawId;
    if (creator.toLowerCase() !== me) void openThread(event.threadId, creator).catch((e) => log(String(e)));
  }
  if (event.type === 'chatMessageReceived' && event.threadId === threadId) {
    const message = event.message as { content: string; sender: { rawId: string } };
    show(message.sender.rawId.toLowerCase(), message.content);
  }
  if (event.type === 'presenceChanged' && String(event.userRawId) === peer) {
    showPeerPresence(String(event.state), event.note);
  }
}

async function signIn(): Promise<void> {
  const answer = await fetchToken('api/token');
  token = answer.token;
  session = answer.session?.secret ?? '';
  me = answer.user.communicationUserId.toLowerCase();
  $('identity').textContent = me;
  $('scopes').textContent = answer.scopes.join(', ');
  $('sign-in').hidden = true;
  $('me').hidden = false;
  const credential = new AzureCommunicationTokenCredential({
    token,
    tokenRefresher: refresh,
    refreshProactively: true,
  });
  chat = new ChatClient(origin, credential);
  subscribeChatEvents({
    endpoint: `${origin}/`,
    credential: { getToken: async () => ({ token }), handleUnauthorized: async () => ({ token: await refresh() }) },
    onEvent,
    onStateChange: (state) => {
      $('stream-state').textContent = state;
    },
    onError: (error) => log(`stream: ${String(error)}`),
  });
}

async function startChat(): Promise<void> {
  const other = $<HTMLInputElement>('peer-id').value.trim();
  const result = await chat?.createChatThread(
    { topic: 'Tessera chat demo' },
    { participants: [{ id: { communicationUserId: other } }] },
  );
  await openThread(result?.chatThread?.id ?? '', other);
}

async function send(): Promise<void> {
  const input = $<HTMLInputElement>('message');
  const content = input.value;
  if (content === '' || chat === undefined) return;
  input.value = '';
  await chat.getChatThreadClient(threadId).sendMessage({ content });
}

async function setPresence(): Promise<void> {
  const note = $<HTMLInputElement>('presence-note').value;
  await presence('PUT', '/presence/me', {
    state: $<HTMLSelectElement>('presence').value,
    ...(note === '' ? {} : { note }),
  });
}

const guard = (work: () => Promise<void>) => () => {
  work().catch((error: unknown) => log(String(error)));
};

void (async () => {
  config = (await (await fetch('config.json')).json()) as DemoConfig;
  $('login-guest').addEventListener('click', guard(signIn));
  $('start-chat').addEventListener('click', guard(startChat));
  $('set-presence').addEventListener('click', guard(setPresence));
  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    guard(send)();
  });
  document.body.dataset.ready = 'true';
})();
