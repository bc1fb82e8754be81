/// <reference lib="dom" />
// The page of cors-browser.test.ts, served from another origin than the chat API: the official
// @azure/communication-chat ChatClient (bundled for the browser) creates a thread, lists threads and sends a
// message cross-origin, and @tessera/client's subscribeChatEvents opens the event stream. Any failure (a CORS
// refusal shows as a TypeError "Failed to fetch") comes back as `error`.
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { subscribeChatEvents } from '@tessera/client';

interface CorsPageResult {
  readonly threads?: number;
  readonly messageId?: string;
  readonly stream?: string;
  readonly error?: string;
}

async function run(endpoint: string, token: string): Promise<CorsPageResult> {
  try {
    const client = new ChatClient(endpoint, new AzureCommunicationTokenCredential(token));
    const created = await client.createChatThread({ topic: 'cross-origin' });
    const threadId = created.chatThread?.id ?? '';
    let threads = 0;
    for await (const _t of client.listChatThreads()) threads += 1;
    const sent = await client.getChatThreadClient(threadId).sendMessage({ content: 'hi from another origin' });
    const stream = await new Promise<string>((resolve) => {
      const end = (outcome: string) => {
        sub?.close();
        resolve(outcome);
      };
      const sub: { close(): void } | undefined = subscribeChatEvents({
        endpoint,
        credential: { getToken: async () => ({ token }) },
        onEvent: () => undefined,
        onStateChange: (s) => (s === 'open' ? end(s) : undefined),
        onError: (error) => end(`error: ${String(error)}`),
      });
      setTimeout(() => end('timeout'), 10_000);
    });
    return { threads, messageId: sent.id, stream };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

(globalThis as unknown as { corsRun: typeof run }).corsRun = run;
