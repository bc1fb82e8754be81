import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createHmacHeaders } from '@tessera/client';
import { parseConnectionString } from '@tessera/core';
import { type RunningServer, startServer } from '@tessera/server';
import { type DevOidcProvider, startDevOidcProvider } from '../../src/dev/dev-oidc-provider.js';
import {
  type RunningTokenService,
  type StartTokenServiceOptions,
  startTokenService,
} from '../../src/start-token-service.js';
import { type LoginTokens, loginAs } from './oidc-login.js';

/** The policy of the example: guests → chat.join.limited 60 min; staff → chat, voip 8 h. */
export const EXAMPLE_POLICY = {
  rolesClaim: 'roles',
  rules: [
    { name: 'staff', match: { roles: ['staff'] }, scopes: ['chat', 'voip'], maxLifetimeMinutes: 480 },
    {
      name: 'member',
      match: { authenticated: true },
      scopes: ['chat.join', 'voip.join'],
      maxLifetimeMinutes: 120,
      defaultLifetimeMinutes: 60,
    },
    { name: 'guest', match: { anonymous: true }, scopes: ['chat.join.limited'], maxLifetimeMinutes: 60 },
  ],
};

export const TEST_CALLBACK = 'http://127.0.0.1:9/test-callback';

/** Captures log lines so tests can check nothing secret is logged. */
export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

/** Identity server + real OIDC provider, shared by the token services a test starts. */
export interface Stack {
  readonly identity: RunningServer;
  readonly identityDataDir: string;
  readonly oidc: DevOidcProvider;
  readonly logs: LogSink;
  /** The OIDC client's redirect URIs: add the demo page's before the provider's first request. */
  readonly redirectUris: string[];
  /** Starts a token service wired to both (own data dir unless given); closed by `close()`. */
  tokenService(options?: Partial<StartTokenServiceOptions>): Promise<RunningTokenService & { dataDir: string }>;
  login(name: string): Promise<LoginTokens>;
  close(): Promise<void>;
}

/** Starts the identity server and the OIDC provider. */
export async function startStack(): Promise<Stack> {
  const dirs: string[] = [];
  const tmp = (label: string) => {
    const dir = mkdtempSync(join(tmpdir(), `tessera-ts-${label}-`));
    dirs.push(dir);
    return dir;
  };
  const identityDataDir = tmp('idsrv');
  const identity = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: identityDataDir,
    logLevel: 'silent',
    rateLimit: 'off',
  });
  const services: RunningTokenService[] = [];
  const redirectUris: string[] = [TEST_CALLBACK];
  const oidc = await startDevOidcProvider({ redirectUris: () => redirectUris });
  const logs = new LogSink();
  return {
    identity,
    identityDataDir,
    oidc,
    logs,
    redirectUris,
    async tokenService(options = {}) {
      const dataDir = options.dataDir ?? tmp('svc');
      const service = await startTokenService({
        identity: identity.connectionString,
        policy: EXAMPLE_POLICY,
        issuers: [{ issuer: oidc.issuer, audience: [oidc.resource, oidc.clientId] }],
        port: 0,
        logLevel: 'info',
        logDestination: logs,
        sweepIntervalMs: 0,
        ...options,
        dataDir,
      });
      services.push(service);
      return { ...service, dataDir };
    },
    login: (name) =>
      loginAs(oidc.issuer, name, { clientId: oidc.clientId, redirectUri: TEST_CALLBACK, resource: oidc.resource }),
    async close() {
      for (const s of services) await s.close();
      await oidc.close();
      await identity.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** `fetch` returning status, headers and parsed JSON. */
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text) };
}

/** The payload of a JWT (no verification: tests read what the service put in it). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Asks the identity server (HMAC-signed, as a trusted server would) whether a user access token is still valid. */
export async function introspect(
  identity: { connectionString: string },
  token: string,
): Promise<{ active: boolean; reason?: string }> {
  const { endpoint, accessKey } = parseConnectionString(identity.connectionString);
  const url = new URL('tokens/:introspect', endpoint);
  const body = JSON.stringify({ token });
  const headers = await createHmacHeaders({ method: 'POST', url, body, key: accessKey });
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-ms-date': headers['x-ms-date'],
      'x-ms-content-sha256': headers['x-ms-content-sha256'],
      authorization: headers.authorization,
    },
  });
  if (!response.ok) throw new Error(`introspection failed: ${response.status}`);
  return (await response.json()) as { active: boolean; reason?: string };
}
