#!/usr/bin/env node
// Regenerates test-vectors/hmac.json from the OFFICIAL Azure SDK — never from Tessera's own code.
//
//   node test-vectors/generate-hmac-vectors.mjs          # rewrite hmac.json
//   node test-vectors/generate-hmac-vectors.mjs --check  # print, do not write
//
// How the expected values are obtained (nothing is recomputed by us):
// - Each case drives `@azure/communication-identity`'s CommunicationIdentityClient (or, where the identity
//   client cannot produce the request, `@azure/communication-common`'s
//   `createCommunicationAccessKeyCredentialPolicy` in a bare pipeline) with the real clock.
// - A custom HttpClient hands the request to the SDK's own default Node http client, pointed at a local
//   recording server (like a reverse proxy: the SDK-set `Host` header is kept). The server records the
//   request as it arrives on the wire: method, raw request-target (`req.url`), `Host`, `x-ms-date`,
//   `x-ms-content-sha256`, `Authorization`, body bytes.
// - `node:crypto`'s `createHmac` is wrapped (delegating to the real one) so the exact string the SDK passed
//   to HMAC-SHA256 is captured: that is `expected.stringToSign`. `x-ms-date` is whatever the SDK chose.
// Re-running changes the dates and signatures (real clock); commit the new file as a whole.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

// Test-only keys: base64(SHA-256('tessera hmac test vector key: primary' / ': secondary')). Never real keys.
const PRIMARY_KEY = 'mXCaqaq73EDkivcf4ghm0iCKTvKTv5Dut1rL1vFT25o=';
const SECONDARY_KEY = '+6Ql272uYcSbaHO8n2NhXYTorjknQLR97lJ5jRmve88=';
const RESOURCE_ID = '6f1c4f2e-9d3a-4b7e-8c21-5a0b7d3e9f10';
const USER_ID = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';
const RAW_ID = `8:acs:${RESOURCE_ID}_${USER_ID}`;

// --- capture what the SDK feeds to HMAC-SHA256 (wrap, delegate, record) ---------------------------------
const nodeCrypto = require('node:crypto');
const realCreateHmac = nodeCrypto.createHmac;
/** @type {{ key: Buffer, inputs: string[] }[]} */
let hmacCalls = [];
nodeCrypto.createHmac = function createHmacSpy(algorithm, key, ...rest) {
  const hmac = realCreateHmac.call(this, algorithm, key, ...rest);
  const call = { key: Buffer.from(key), inputs: [] };
  hmacCalls.push(call);
  const update = hmac.update.bind(hmac);
  hmac.update = (data, encoding) => {
    call.inputs.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
    return update(data, encoding);
  };
  return hmac;
};
syncBuiltinESMExports();

const { CommunicationIdentityClient } = require('@azure/communication-identity');
const { createCommunicationAccessKeyCredentialPolicy } = require('@azure/communication-common');
const { AzureKeyCredential } = require('@azure/core-auth');
const {
  createDefaultHttpClient,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
} = require('@azure/core-rest-pipeline');

// --- the recording server -------------------------------------------------------------------------------
/** @type {{ method: string, target: string, headers: import('node:http').IncomingHttpHeaders, body: Buffer }[]} */
let received = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push({
      method: req.method ?? '',
      target: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks),
    });
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = { token: 'x.y.z', expiresOn: '2030-01-01T00:00:00.0000000+00:00' };
    let status = 204;
    let body = '';
    if (req.method === 'POST' && path === '/identities') {
      status = 201;
      body = JSON.stringify({ identity: { id: RAW_ID }, accessToken: token });
    } else if (req.method === 'POST' && path.endsWith('/:issueAccessToken')) {
      status = 200;
      body = JSON.stringify(token);
    } else if (req.method === 'GET') {
      status = 200;
      body = JSON.stringify({ id: RAW_ID });
    }
    res.writeHead(status, body === '' ? {} : { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('no port');
const port = address.port;

/** Forwards the SDK's request, unchanged but for the socket it goes to, through the SDK's own http client. */
const defaultClient = createDefaultHttpClient();
let sdkUrl = '';
const forwardingClient = {
  async sendRequest(request) {
    sdkUrl = request.url;
    const u = new URL(request.url);
    request.url = `http://127.0.0.1:${port}${u.pathname}${u.search}`;
    request.allowInsecureConnection = true;
    return defaultClient.sendRequest(request);
  },
};

function identityClient(endpoint, key) {
  return new CommunicationIdentityClient(`endpoint=${endpoint};accesskey=${key}`, {
    httpClient: forwardingClient,
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

async function viaPolicy({ key, method, url, body, contentType }) {
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(createCommunicationAccessKeyCredentialPolicy(new AzureKeyCredential(key)));
  const request = createPipelineRequest({
    url,
    method,
    headers: createHttpHeaders(contentType === undefined ? {} : { 'content-type': contentType }),
    allowInsecureConnection: true,
  });
  if (body !== undefined) request.body = body;
  await pipeline.sendRequest(forwardingClient, request);
}

const user = { communicationUserId: RAW_ID };
const cases = [
  {
    name: 'create identity, empty body, https default port',
    sdkCall: "CommunicationIdentityClient('https://tessera.example.com/').createUser()",
    key: PRIMARY_KEY,
    run: () => identityClient('https://tessera.example.com/', PRIMARY_KEY).createUser(),
  },
  {
    name: 'create identity and token, JSON body, non-default port',
    sdkCall: "CommunicationIdentityClient('http://localhost:18080/').createUserAndToken(['chat','voip'])",
    key: PRIMARY_KEY,
    run: () => identityClient('http://localhost:18080/', PRIMARY_KEY).createUserAndToken(['chat', 'voip']),
  },
  {
    name: 'issue token, percent-encoded id path, JSON body with expiresInMinutes',
    sdkCall:
      "CommunicationIdentityClient('https://tessera.example.com/').getToken(user, ['chat.join','voip.join'], { tokenExpiresInMinutes: 60 })",
    key: PRIMARY_KEY,
    run: () =>
      identityClient('https://tessera.example.com/', PRIMARY_KEY).getToken(user, ['chat.join', 'voip.join'], {
        tokenExpiresInMinutes: 60,
      }),
  },
  {
    name: 'issue token, percent-encoded id path, non-default port and IP host, secondary key',
    sdkCall: "CommunicationIdentityClient('http://127.0.0.1:8080/').getToken(user, ['chat'])",
    key: SECONDARY_KEY,
    run: () => identityClient('http://127.0.0.1:8080/', SECONDARY_KEY).getToken(user, ['chat']),
  },
  {
    name: 'revoke tokens, empty body, percent-encoded id path',
    sdkCall: "CommunicationIdentityClient('http://localhost:18080/').revokeTokens(user)",
    key: PRIMARY_KEY,
    run: () => identityClient('http://localhost:18080/', PRIMARY_KEY).revokeTokens(user),
  },
  {
    name: 'delete identity, DELETE verb, empty body',
    sdkCall: "CommunicationIdentityClient('https://tessera.example.com/').deleteUser(user)",
    key: PRIMARY_KEY,
    run: () => identityClient('https://tessera.example.com/', PRIMARY_KEY).deleteUser(user),
  },
  {
    name: 'explicit default port in the endpoint is dropped from the signed host',
    sdkCall: "CommunicationIdentityClient('http://tessera.local:80/').createUser()",
    key: PRIMARY_KEY,
    run: () => identityClient('http://tessera.local:80/', PRIMARY_KEY).createUser(),
  },
  {
    name: 'unicode JSON body (customId), signed over UTF-8 bytes',
    sdkCall:
      'createCommunicationAccessKeyCredentialPolicy: POST https://tessera.example.com/identities?api-version=2025-03-02-preview',
    key: PRIMARY_KEY,
    run: () =>
      viaPolicy({
        key: PRIMARY_KEY,
        method: 'POST',
        url: 'https://tessera.example.com/identities?api-version=2025-03-02-preview',
        body: JSON.stringify({ customId: 'zoë.müller@例え.jp 🎉', createTokenWithScopes: ['chat'] }),
        contentType: 'application/json',
      }),
  },
  {
    name: 'GET identity, non-default port, query re-encoded by the SDK (signed query differs from the wire)',
    sdkCall:
      "createCommunicationAccessKeyCredentialPolicy: GET http://localhost:18080/identities/<id>?api-version=2025-03-02-preview&note=a%20b'c",
    key: PRIMARY_KEY,
    note: "The SDK signs url.searchParams.toString() ('note=a+b%27c') while the wire carries 'note=a%20b%27c' (the URL parser's encoding of the query): a server that signs the raw request-target must also try the URLSearchParams-normalised query.",
    run: () =>
      viaPolicy({
        key: PRIMARY_KEY,
        method: 'GET',
        url: `http://localhost:18080/identities/${encodeURIComponent(RAW_ID)}?api-version=2025-03-02-preview&note=a%20b'c`,
      }),
  },
];

const vectors = [];
for (const c of cases) {
  hmacCalls = [];
  received = [];
  sdkUrl = '';
  await c.run();
  const keyBytes = Buffer.from(c.key, 'base64');
  const signing = hmacCalls.filter((call) => call.key.equals(keyBytes));
  if (received.length !== 1 || signing.length !== 1 || signing[0]?.inputs.length !== 1) {
    throw new Error(`${c.name}: expected one request and one HMAC, got ${received.length} / ${signing.length}`);
  }
  const req = received[0];
  const stringToSign = signing[0].inputs[0];
  const authorization = String(req.headers.authorization);
  const match = /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(.+)$/.exec(authorization);
  if (match === null) throw new Error(`${c.name}: unexpected Authorization shape`);
  const body = req.body.toString('utf8');
  const contentHash = String(req.headers['x-ms-content-sha256']);
  // Sanity only (the expected values above come from the SDK): the recorded body is what the SDK hashed.
  if (createHash('sha256').update(req.body).digest('base64') !== contentHash) {
    throw new Error(`${c.name}: wire body does not hash to x-ms-content-sha256`);
  }
  vectors.push({
    name: c.name,
    sdkCall: c.sdkCall,
    ...(c.note === undefined ? {} : { note: c.note }),
    method: req.method,
    url: sdkUrl,
    requestTarget: req.target,
    host: String(req.headers.host),
    date: String(req.headers['x-ms-date']),
    body,
    contentType: req.headers['content-type'] ?? null,
    accessKey: c.key,
    expected: {
      contentHash,
      pathAndQuery: stringToSign.split('\n')[1],
      stringToSign,
      signature: match[1],
      authorization,
    },
  });
}
server.close();

const sdkVersion = (name) => require(`${name}/package.json`).version;
const out = {
  description:
    'HMAC-SHA256 access-key request signing as the official Azure SDK does it. Recorded from the SDK by test-vectors/generate-hmac-vectors.mjs (re-run to regenerate); never computed by Tessera code.',
  generatedAt: new Date().toISOString(),
  generator: {
    node: process.version,
    '@azure/communication-identity': sdkVersion('@azure/communication-identity'),
    '@azure/communication-common': sdkVersion('@azure/communication-common'),
    '@azure/core-rest-pipeline': sdkVersion('@azure/core-rest-pipeline'),
  },
  fields: {
    url: 'the URL the SDK pipeline sent (request.url)',
    requestTarget:
      "the raw request-target a Node http server received (req.url): what a server signs with 'try raw first'",
    host: 'the Host header on the wire (the SDK sets it to url.host: port kept unless default)',
    date: 'the x-ms-date the SDK chose (real clock)',
    body: 'the body bytes on the wire, UTF-8',
    'expected.pathAndQuery': 'second line of the captured string-to-sign',
    'expected.stringToSign':
      "the exact string the SDK passed to HMAC-SHA256 (captured by wrapping node:crypto's createHmac)",
  },
  cases: vectors,
};
const json = `${JSON.stringify(out, null, 2)}\n`;
if (process.argv.includes('--check')) process.stdout.write(json);
else {
  writeFileSync(join(here, 'hmac.json'), json);
  // Leave the file exactly as `biome check` wants it, so a re-run produces no formatting diff.
  spawnSync(join(here, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', join(here, 'hmac.json')], {
    stdio: 'ignore',
  });
  console.log(`wrote ${vectors.length} cases to ${join(here, 'hmac.json')}`);
}
