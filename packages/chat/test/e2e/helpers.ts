// Helpers of the chat end-to-end suites: a real identity server with the chat API mounted (as `tessera serve`
// mounts it), over HTTPS with the server's development CA, driven by the official Azure SDKs only.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential, type CommunicationUserIdentifier } from '@azure/communication-common';
import { CommunicationIdentityClient, type TokenScope } from '@azure/communication-identity';
import { withChat } from '@tessera/cli';
import { type RunningServer, type ServerOptions, startServer } from '@tessera/server';

/** A Tessera server with chat mounted, on a temp data dir, over HTTPS (`tlsDev`). */
export interface ChatTestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  /** The development CA (PEM) the SDK clients trust. */
  readonly ca: string;
  readonly identity: CommunicationIdentityClient;
  /** A new identity with a token of these scopes. */
  user(scopes?: TokenScope[]): Promise<TestUser>;
  /** Stops the server; removes the data dir unless `keepData`. */
  close(keepData?: boolean): Promise<void>;
}

/** An identity, its token and a ChatClient speaking as it. */
export interface TestUser {
  readonly id: string;
  readonly identifier: CommunicationUserIdentifier;
  readonly token: string;
  readonly chat: ChatClient;
}

/** Starts `startServer` with the chat mount, `tlsDev`, port 0, silent logs. */
export async function startChatTestServer(options: ServerOptions = {}): Promise<ChatTestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-chat-e2e-'));
  const base: ServerOptions = { host: '127.0.0.1', port: 0, logLevel: 'silent', tlsDev: true, ...options, dataDir };
  const { options: withMount, mount } = withChat(base);
  const server = await startServer(withMount);
  mount.attach(server);
  const ca = readFileSync(server.devCaPath ?? '', 'utf8');
  const identity = new CommunicationIdentityClient(server.connectionString, { tlsOptions: { ca } });
  return {
    server,
    url: server.url,
    dataDir,
    ca,
    identity,
    async user(scopes: TokenScope[] = ['chat']) {
      const r = await identity.createUserAndToken(scopes);
      return {
        id: r.user.communicationUserId,
        identifier: r.user,
        token: r.token,
        chat: chatClient(server.url, r.token, ca),
      };
    },
    async close(keepData = false) {
      await server.close();
      if (!keepData && options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The official ChatClient for `endpoint` with a fixed token, trusting `ca`. */
export function chatClient(endpoint: string, token: string, ca: string): ChatClient {
  return new ChatClient(endpoint, new AzureCommunicationTokenCredential(token), { tlsOptions: { ca } });
}

/** A raw HTTPS request (for what the SDK cannot send: bad bodies, other api-versions, no token). */
export function rawRequest(
  target: { readonly url: string; readonly ca: string },
  method: string,
  path: string,
  options: { token?: string; body?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = httpsRequest(new URL(path, target.url), { method, headers, ca: target.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The `error` of an ACS error body. */
export function errorOf(json: unknown): {
  code?: string;
  message?: string;
  target?: string;
  innererror?: { code?: string };
} {
  return ((json as { error?: unknown } | undefined)?.error ?? {}) as {
    code?: string;
    message?: string;
    target?: string;
    innererror?: { code?: string };
  };
}

/** Every item of a paged SDK iterator. */
export async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
