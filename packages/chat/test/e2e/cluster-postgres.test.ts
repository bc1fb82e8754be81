// Three processes serving chat on one PostgreSQL: `tessera serve` (identity + mounted chat) and two standalone
// `tessera chat-service` processes verifying its tokens offline (JWKS, revocation feed). A thread made through one
// is used through the others; message ids stay unique and increasing; a revocation reaches every process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { ChatClient } from '@azure/communication-chat';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { rawRequest } from './helpers.js';
import { type CliProcess, spawnTessera, stopAllAndDropSchema } from './processes.js';

const PG = testPostgresUrl();
const schema = `tessera_chat_cluster_${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-chat-cluster-'));

let ca: string;
let identity: CommunicationIdentityClient;
let endpoints: string[] = [];
const processes: CliProcess[] = [];

beforeAll(async () => {
  const serve = spawnTessera([
    'serve',
    '--port',
    '0',
    '--tls-dev',
    '--log-level',
    'silent',
    '--data-dir',
    dataDir,
    '--store',
    `${PG}?schema=${schema}`,
    '--print-connection-strings',
  ]);
  processes.push(serve);
  const [, connectionString = ''] = await serve.waitFor(/^Connection string: (\S+)$/m);
  const [, verifierString = ''] = await serve.waitFor(/^Verifier \(read-only\) connection string: (\S+)$/m);
  const [, caPath = ''] = await serve.waitFor(/^Development CA: (\S+)$/m);
  await serve.waitFor(/^Chat API .*: (\S+)$/m);
  ca = readFileSync(caPath, 'utf8');
  identity = new CommunicationIdentityClient(connectionString, { tlsOptions: { ca } });
  const serveUrl = /endpoint=([^;]+)/.exec(connectionString)?.[1] ?? '';
  endpoints = [serveUrl];
  for (let i = 0; i < 2; i++) {
    const chat = spawnTessera([
      'chat-service',
      '--connection-string',
      verifierString,
      '--identity-ca',
      caPath,
      '--port',
      '0',
      '--store',
      `${PG}?schema=${schema}`,
      '--tls-cert',
      join(dataDir, 'tls', 'localhost.pem'),
      '--tls-key',
      join(dataDir, 'tls', 'localhost.key'),
      '--log-level',
      'silent',
    ]);
    processes.push(chat);
    const [, url = ''] = await chat.waitFor(/^Tessera chat service listening on (\S+)$/m);
    endpoints.push(url);
  }
}, 90_000);

afterAll(async () => {
  await stopAllAndDropSchema(PG, schema);
  rmSync(dataDir, { recursive: true, force: true });
});

function clientAt(endpoint: string, token: string): ChatClient {
  return new ChatClient(endpoint, new AzureCommunicationTokenCredential(token), { tlsOptions: { ca } });
}

it('one thread, three processes: created on one, written through all, read back identically from each', async () => {
  const alice = await identity.createUserAndToken(['chat']);
  const bob = await identity.createUserAndToken(['chat']);
  const [e0 = '', e1 = '', e2 = ''] = endpoints;
  const created = await clientAt(e0, alice.token).createChatThread(
    { topic: 'cluster' },
    { participants: [{ id: bob.user }] },
  );
  const threadId = created.chatThread?.id ?? '';
  const sent: string[] = [];
  for (let i = 0; i < 9; i++) {
    const endpoint = endpoints[i % 3] ?? '';
    const sender = i % 2 === 0 ? alice.token : bob.token;
    sent.push(
      (
        await clientAt(endpoint, sender)
          .getChatThreadClient(threadId)
          .sendMessage({ content: `m${i}` })
      ).id,
    );
  }
  const numeric = sent.map(Number);
  expect(numeric).toEqual([...numeric].sort((a, b) => a - b));
  expect(new Set(sent).size).toBe(9);
  const views = [];
  for (const endpoint of [e0, e1, e2]) {
    const list = [];
    for await (const m of clientAt(endpoint, bob.token).getChatThreadClient(threadId).listMessages()) {
      if (m.type === 'text') list.push(`${m.id}:${m.content?.message}`);
    }
    views.push(list);
  }
  expect(views[0]).toHaveLength(9);
  expect(views[1]).toEqual(views[0]);
  expect(views[2]).toEqual(views[0]);
  const threadsOnE2 = [];
  for await (const th of clientAt(e2, bob.token).listChatThreads()) threadsOnE2.push(th.id);
  expect(threadsOnE2).toContain(threadId);
  expect(e1).not.toBe(e0);
});

it('a revocation at the identity server is refused by every chat process', async () => {
  const carol = await identity.createUserAndToken(['chat']);
  const threadId =
    (await clientAt(endpoints[0] ?? '', carol.token).createChatThread({ topic: 'revoke me' })).chatThread?.id ?? '';
  const probe = async (endpoint: string) =>
    (
      await rawRequest(
        { url: endpoint, ca },
        'GET',
        `/chat/threads/${encodeURIComponent(threadId)}?api-version=2025-03-15`,
        {
          token: carol.token,
        },
      )
    ).status;
  for (const e of endpoints) expect(await probe(e)).toBe(200);
  await identity.revokeTokens(carol.user);
  for (const e of endpoints) {
    const deadline = Date.now() + 5000;
    let status = await probe(e);
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      status = await probe(e);
    }
    expect(status, e).toBe(401);
  }
});
