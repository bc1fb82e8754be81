// Requirement 6: `tessera serve` as a process — its banner, every flag and TESSERA_* variable, bad values, health
// endpoints, one JSON log line per request with no secret in it, graceful SIGTERM, and durability across kill -9.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  cleanEnv,
  createIdentity,
  decodeToken,
  errorOf,
  freePort,
  hasStackTrace,
  identityClient,
  identityPath,
  introspect,
  killAllSpawned,
  type RawResponse,
  rawRequest,
  restErrorOf,
  type ServeProcess,
  signRequest,
  spawnCli,
  spawnServe,
  type Target,
  tempDir,
} from '../../server/test/e2e/helpers.js';

const CONNECTION_LINE = /^Connection string: endpoint=http:\/\/127\.0\.0\.1:(\d+)\/;accesskey=([A-Za-z0-9+/]+={0,2})$/m;

/** Processes and dirs to clean up whatever happens. */
const processes: ServeProcess[] = [];
const dirs: Array<{ cleanup(): void }> = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await killAllSpawned();
  for (const d of dirs) d.cleanup();
});

function dir(): string {
  const d = tempDir('tessera-cli-');
  dirs.push(d);
  return d.path;
}

async function serve(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<ServeProcess> {
  const p = await spawnServe(args, env);
  processes.push(p);
  return p;
}

const targetOfServe = (p: ServeProcess): Target => ({ url: p.url, accessKey: p.accessKey });

describe('tessera serve --port 0 --data-dir <tmp>', () => {
  let server: ServeProcess;
  let dataDir = '';
  /** Everything secret this describe sends or receives, to grep the logs for. */
  const secrets = { tokens: [] as string[], signatures: [] as string[] };
  /** x-ms-client-request-id of every request sent, in order. */
  const requestIds: string[] = [];

  beforeAll(async () => {
    dataDir = dir();
    server = await serve(['--port', '0', '--data-dir', dataDir]);
  });

  it('prints "Connection string: endpoint=http://127.0.0.1:<port>/;accesskey=<base64>"', () => {
    const m = CONNECTION_LINE.exec(server.stdout());
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(Buffer.from(m?.[2] ?? '', 'base64').length).toBeGreaterThanOrEqual(32);
    expect(server.url).toBe(`http://127.0.0.1:${m?.[1]}/`);
    expect(server.stdout()).toMatch(/^Resource id: [0-9a-f-]{36} \(created\)$/m);
    expect(existsSync(join(dataDir, 'tessera.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
  });

  it('the official SDK works with the printed connection string', async () => {
    const client = identityClient(server.connectionString, {
      additionalPolicies: [
        {
          position: 'perRetry',
          policy: {
            name: 'record-secrets',
            async sendRequest(request, next) {
              const response = await next(request);
              requestIds.push(request.headers.get('x-ms-client-request-id') ?? '');
              const signature = /Signature=(\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
              if (signature !== undefined) secrets.signatures.push(signature);
              return response;
            },
          },
        },
      ],
    });
    const created = await client.createUserAndToken(['chat', 'voip']);
    secrets.tokens.push(created.token);
    expect(decodeToken(created.token).payload.resourceId).toBe(server.resourceId);
    const issued = await client.getToken(created.user, ['voip.join'], { tokenExpiresInMinutes: 60 });
    secrets.tokens.push(issued.token);
    await client.revokeTokens(created.user);
    await client.deleteUser(created.user);
    const error = restErrorOf(await client.getToken(created.user, ['chat']).catch((e: unknown) => e));
    expect(error.statusCode).toBe(404);
    expect(requestIds).toHaveLength(5);
  });

  it('GET /healthz → 200 and GET /readyz → 200 without authentication', async () => {
    const health = await rawRequest({ baseUrl: server.url, method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const ready = await rawRequest({ baseUrl: server.url, method: 'GET', path: '/readyz' });
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready' });
  });

  it('writes one JSON log line per request with op, identityId, status, latencyMs and the echoed requestId', async () => {
    const target = targetOfServe(server);
    const sent: Array<{ id: string; res: RawResponse }> = [];
    const send = async (method: string, path: string, json?: unknown) => {
      const id = `e2e-${randomUUID()}`;
      const res = await acsRequest(target, method, path, { requestId: id, ...(json === undefined ? {} : { json }) });
      secrets.signatures.push(res.signed.signature);
      requestIds.push(id);
      sent.push({ id, res });
      return res;
    };
    const created = await send('POST', '/identities?api-version=2023-10-01', { createTokenWithScopes: ['chat'] });
    const { identity, accessToken } = created.json as { identity: { id: string }; accessToken: { token: string } };
    secrets.tokens.push(accessToken.token);
    const issued = await send('POST', identityPath(identity.id, '/:issueAccessToken'), { scopes: ['chat'] });
    secrets.tokens.push((issued.json as { token: string }).token);
    await send('POST', '/tokens/:introspect', { token: accessToken.token });
    await send('POST', identityPath(identity.id, '/:revokeAccessTokens'));
    await send('POST', identityPath(identity.id, '/:issueAccessToken'), { scopes: [] });
    await send('GET', '/admin/keys');
    await send('DELETE', identityPath(identity.id));
    const keys = sent[5]?.res.json as { secondaryKey: string };
    expect(keys.secondaryKey).toBeTypeOf('string');

    const last = sent.at(-1)?.id ?? '';
    await server.waitFor(new RegExp(`"requestId":"${last}"`));
    const lines = logLines(server.stdout());
    const expectLine = (id: string, op: string, status: number, identityId?: string) => {
      const matching = lines.filter((l) => l.requestId === id);
      expect(matching, `log line for ${op}`).toHaveLength(1);
      const line = matching[0] ?? {};
      expect(line.op).toBe(op);
      expect(line.status).toBe(status);
      expect(line.latencyMs).toBeTypeOf('number');
      expect(line.latencyMs as number).toBeGreaterThanOrEqual(0);
      if (identityId !== undefined) expect(line.identityId).toBe(identityId);
    };
    expectLine(sent[0]?.id ?? '', 'identity.create', 201, identity.id);
    expectLine(sent[1]?.id ?? '', 'identity.issueToken', 200, identity.id);
    expectLine(sent[2]?.id ?? '', 'token.introspect', 200);
    expectLine(sent[3]?.id ?? '', 'identity.revokeTokens', 204, identity.id);
    expectLine(sent[4]?.id ?? '', 'identity.issueToken', 400, identity.id);
    expectLine(sent[6]?.id ?? '', 'identity.delete', 204, identity.id);
    // The SDK's requests are logged under the request id the SDK sent.
    for (const id of requestIds) expect(lines.filter((l) => l.requestId === id)).toHaveLength(1);
    // Secrets this test saw, to be grepped for after SIGTERM (when every line has been written).
    secrets.tokens.push(keys.secondaryKey);
  });

  it('a token sent by mistake where the identity id belongs (400) is not written to the log', async () => {
    const target = targetOfServe(server);
    const created = await createIdentity(target, { createTokenWithScopes: ['chat'] });
    const token = created.accessToken?.token ?? '';
    const id = `mistake-${randomUUID()}`;
    const res = await acsRequest(target, 'POST', identityPath(token, '/:issueAccessToken'), {
      json: { scopes: ['chat'] },
      requestId: id,
    });
    expect(res.status).toBe(400);
    const line = (await server.waitFor(new RegExp(`^.*"requestId":"${id}".*$`, 'm')))[0];
    expect(line).not.toContain(token);
    expect(line).not.toContain(token.split('.')[2]);
  });

  it('SIGTERM while a request is in flight: the request completes, the process prints "Stopped." and exits 0', async () => {
    const body = JSON.stringify({ createTokenWithScopes: ['chat'], pad: 'x'.repeat(2000) });
    const path = '/identities?api-version=2023-10-01';
    const signed = signRequest({
      method: 'POST',
      pathAndQuery: path,
      host: new URL(server.url).host,
      body,
      accessKey: server.accessKey,
    });
    secrets.signatures.push(signed.signature);
    const base = new URL(server.url);
    const response = new Promise<RawResponse>((done, fail) => {
      const req = httpRequest(
        {
          host: base.hostname,
          port: base.port,
          method: 'POST',
          path,
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'x-ms-date': signed.date,
            'x-ms-content-sha256': signed.contentHash,
            authorization: signed.authorization,
            'x-ms-client-request-id': 'in-flight-during-sigterm',
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () =>
            done({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) }),
          );
        },
      );
      req.on('error', fail);
      req.write(body.slice(0, 1000));
      // Headers and half the body are in; now stop the server, then finish the body.
      setTimeout(() => {
        server.child.kill('SIGTERM');
        server
          .waitFor(/Received SIGTERM/)
          .then(() => new Promise((r) => setTimeout(r, 200)))
          .then(() => req.end(body.slice(1000)), fail);
      }, 500);
    });
    const res = await response;
    expect(res.status, res.text).toBe(201);
    secrets.tokens.push((res.json as { accessToken: { token: string } }).accessToken.token);
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(server.stdout()).toMatch(/^Stopped\.$/m);
    expect(logLines(server.stdout()).some((l) => l.requestId === 'in-flight-during-sigterm' && l.status === 201)).toBe(
      true,
    );
  });

  it('no token, key or signature appears anywhere in the logs', () => {
    const out = server.stdout();
    const err = server.stderr();
    expect(secrets.tokens.length).toBeGreaterThanOrEqual(5);
    expect(secrets.signatures.length).toBeGreaterThanOrEqual(10);
    for (const secret of [...secrets.tokens, ...secrets.signatures]) {
      expect(out).not.toContain(secret);
      expect(err).not.toContain(secret);
      // Tokens: not even their signature part.
      const sigPart = secret.split('.')[2];
      if (sigPart !== undefined) expect(out).not.toContain(sigPart);
    }
    // The banner prints the primary and verifier connection strings by design; no other line may carry a key.
    const verifierKey = /^Verifier \(read-only\) connection string: .*accesskey=(\S+)$/m.exec(out)?.[1] ?? '';
    expect(verifierKey).not.toBe('');
    for (const line of out.split('\n')) {
      if (/^(Verifier \(read-only\) )?[Cc]onnection string: /.test(line)) continue;
      expect(line).not.toContain(server.accessKey);
      expect(line).not.toContain(verifierKey);
    }
    expect(err).not.toContain(server.accessKey);
    // Every non-banner line is a structured JSON log line.
    const jsonLines = out.split('\n').filter((l) => l.startsWith('{'));
    expect(jsonLines.length).toBeGreaterThanOrEqual(15);
    for (const l of jsonLines) expect(() => JSON.parse(l)).not.toThrow();
  });
});

function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'request');
}

describe('every setting, as a flag and as a TESSERA_* variable', () => {
  const primaryKey = randomBytes(64).toString('base64');
  const secondaryKey = randomBytes(48).toString('base64');
  const resourceId = randomUUID();

  it('flags: --port --host --data-dir --store --primary-key --secondary-key --resource-id --location --issuer --audience --max-clock-skew --body-limit', async () => {
    const port = await freePort();
    const dataDir = dir();
    const storeDir = dir();
    const server = await serve(
      [
        '--port',
        String(port),
        '--host',
        '127.0.0.2',
        '--data-dir',
        dataDir,
        '--store',
        `sqlite:${join(storeDir, 'custom.db')}`,
        '--primary-key',
        primaryKey,
        '--secondary-key',
        secondaryKey,
        '--resource-id',
        resourceId,
        '--location',
        'europe',
        '--issuer',
        'urn:flag-issuer',
        '--audience',
        'urn:flag-audience',
        '--max-clock-skew',
        '60',
        '--body-limit',
        '2048',
      ],
      // A flag wins over its environment variable.
      { TESSERA_ISSUER: 'urn:env-issuer-must-lose' },
    );
    try {
      expect(server.url).toBe(`http://127.0.0.2:${port}/`);
      expect(server.accessKey).toBe(primaryKey);
      expect(server.resourceId).toBe(resourceId);
      expect(existsSync(join(storeDir, 'custom.db'))).toBe(true);
      expect(existsSync(join(dataDir, 'tessera.db'))).toBe(false);
      expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
      // Bound to 127.0.0.2 only.
      await expect(
        rawRequest({ baseUrl: `http://127.0.0.1:${port}/`, method: 'GET', path: '/healthz' }),
      ).rejects.toThrow();

      const client = identityClient(server.connectionString);
      const { user, token } = await client.createUserAndToken(['chat']);
      expect(user.communicationUserId.startsWith(`8:acs:${resourceId}_`)).toBe(true);
      const claims = decodeToken(token).payload;
      expect(claims).toMatchObject({
        resourceId,
        resourceLocation: 'europe',
        rgn: 'emea',
        iss: 'urn:flag-issuer',
        aud: 'urn:flag-audience',
      });
      const target = targetOfServe(server);
      const keys = (await acsRequest(target, 'GET', '/admin/keys')).json as { secondaryKey: string };
      expect(keys.secondaryKey).toBe(secondaryKey);
      expect((await acsRequest({ url: server.url, accessKey: secondaryKey }, 'GET', '/admin/keys')).status).toBe(200);

      const stale = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
        date: new Date(Date.now() - 120_000).toUTCString(),
      });
      expect(errorOf(stale).innererror?.code).toBe('ERR_AUTH_DATE_OUT_OF_RANGE');
      const big = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
        json: { pad: 'x'.repeat(3000) },
      });
      expect(big.status).toBe(413);
      expect(errorOf(big).code).toBe('RequestEntityTooLarge');
    } finally {
      await server.kill();
    }
  });

  it('environment: TESSERA_PORT _HOST _DATA_DIR _STORE _PRIMARY_KEY _SECONDARY_KEY _RESOURCE_ID _LOCATION _ISSUER _AUDIENCE _PUBLIC_URL _MASTER_KEY _MAX_CLOCK_SKEW _BODY_LIMIT _LOG_LEVEL', async () => {
    const port = await freePort();
    const dataDir = dir();
    const storeDir = dir();
    const envResource = randomUUID();
    const server = await serve([], {
      TESSERA_PORT: String(port),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_DATA_DIR: dataDir,
      TESSERA_STORE: `sqlite:${join(storeDir, 'env.db')}`,
      TESSERA_PRIMARY_KEY: secondaryKey,
      TESSERA_SECONDARY_KEY: primaryKey,
      TESSERA_RESOURCE_ID: envResource,
      TESSERA_LOCATION: 'france',
      TESSERA_ISSUER: 'urn:env-issuer',
      TESSERA_AUDIENCE: 'urn:env-audience',
      TESSERA_PUBLIC_URL: 'https://tessera.example.test/',
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_MAX_CLOCK_SKEW: '60',
      TESSERA_BODY_LIMIT: '2048',
      TESSERA_LOG_LEVEL: 'warn',
    });
    try {
      expect(server.connectionString).toBe(`endpoint=https://tessera.example.test/;accesskey=${secondaryKey}`);
      expect(server.resourceId).toBe(envResource);
      expect(existsSync(join(storeDir, 'env.db'))).toBe(true);
      expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
      const target: Target = { url: `http://127.0.0.1:${port}/`, accessKey: secondaryKey };
      // As if through a TLS-terminating proxy: the signed host is the public one, not this port.
      const host = 'tessera.example.test';
      const viaPublic = { signHost: host, headers: { host } };
      const created = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
        json: { createTokenWithScopes: ['voip'] },
        ...viaPublic,
      });
      expect(created.status, created.text).toBe(201);
      const { identity, accessToken } = created.json as { identity: { id: string }; accessToken: { token: string } };
      expect(identity.id.startsWith(`8:acs:${envResource}_`)).toBe(true);
      expect(decodeToken(accessToken.token).payload).toMatchObject({
        resourceLocation: 'france',
        rgn: 'emea',
        iss: 'urn:env-issuer',
        aud: 'urn:env-audience',
      });
      const discovery = await rawRequest({
        baseUrl: target.url,
        method: 'GET',
        path: '/.well-known/openid-configuration',
      });
      expect((discovery.json as { jwks_uri: string }).jwks_uri).toBe(
        'https://tessera.example.test/.well-known/jwks.json',
      );
      const keys = await acsRequest(target, 'GET', '/admin/keys', viaPublic);
      expect((keys.json as { secondaryKey: string }).secondaryKey).toBe(primaryKey);
      const stale = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
        ...viaPublic,
        date: new Date(Date.now() - 120_000).toUTCString(),
      });
      expect(errorOf(stale).innererror?.code).toBe('ERR_AUTH_DATE_OUT_OF_RANGE');
      const big = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01', {
        ...viaPublic,
        json: { pad: 'x'.repeat(3000) },
      });
      expect(big.status).toBe(413);
      // log level warn: no per-request info lines.
      expect(logLines(server.stdout())).toHaveLength(0);
    } finally {
      await server.kill();
    }
  });
});

describe('bad settings exit non-zero with a message naming the setting', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['--port abc', ['--port', 'abc'], {}, /port/],
    ['--port 70000', ['--port', '70000'], {}, /port/],
    ['--port -1', ['--port', '-1'], {}, /port/],
    ['--resource-id not-a-uuid', ['--resource-id', 'not-a-uuid'], {}, /resource-id/],
    ['--store mysql://x', ['--store', 'mysql://x'], {}, /store/],
    ['--store sqlite: (no path)', ['--store', 'sqlite:'], {}, /store/],
    ['--primary-key not-base64', ['--primary-key', 'not base64!!'], {}, /primary-key/],
    ['--primary-key too short', ['--primary-key', 'c2hvcnQ='], {}, /primary-key/],
    ['--secondary-key not-base64', ['--secondary-key', '***'], {}, /secondary-key/],
    ['--location Not Valid', ['--location', 'Not Valid'], {}, /location/],
    ['--log-level loud', ['--log-level', 'loud'], {}, /log-level/],
    ['--signing fast', ['--signing', 'fast'], {}, /signing/],
    ['--public-url with a path', ['--public-url', 'http://example.com/tessera'], {}, /public-url/],
    ['--master-key wrong size', ['--master-key', randomBytes(16).toString('base64')], {}, /master-key/],
    ['--max-clock-skew 0', ['--max-clock-skew', '0'], {}, /max-clock-skew/],
    ['an unknown flag', ['--bogus', '1'], {}, /bogus/],
    ['a positional argument', ['extra'], {}, /extra|argument/i],
    ['TESSERA_PORT=abc', [], { TESSERA_PORT: 'abc' }, /TESSERA_PORT|port/],
    ['TESSERA_PORT=70000', [], { TESSERA_PORT: '70000' }, /port/],
    ['TESSERA_RESOURCE_ID=nope', [], { TESSERA_RESOURCE_ID: 'nope' }, /resource-id|TESSERA_RESOURCE_ID/],
    ['TESSERA_STORE=mysql://x', [], { TESSERA_STORE: 'mysql://x' }, /store|TESSERA_STORE/],
    ['TESSERA_PRIMARY_KEY=not-base64', [], { TESSERA_PRIMARY_KEY: '!!' }, /primary-key|TESSERA_PRIMARY_KEY/],
  ];

  it.concurrent.each(cases)('%s', async (_label, args, env, message) => {
    // --port 0 unless the case is about the port (a flag would win over TESSERA_PORT).
    const port = env.TESSERA_PORT === undefined && !args.includes('--port') ? ['--port', '0'] : [];
    const p = spawnCli(['serve', '--data-dir', dir(), ...port, ...args], env);
    p.child.stdin.end();
    const started = p.waitFor(/Connection string/, 20_000).then(
      () => 'started',
      () => 'exited',
    );
    if ((await started) === 'started') await p.kill();
    const { code } = await p.exited;
    expect(code, p.stdout()).not.toBe(0);
    expect(code).not.toBeNull();
    expect(p.stderr()).toMatch(message);
    expect(p.stderr()).toMatch(/^tessera: /m);
    expect(hasStackTrace(p.stderr())).toBe(false);
    expect(p.stdout()).not.toMatch(/Connection string/);
  });

  it.concurrent.each([
    ['--data-dir that is a file', (file: string) => ['--data-dir', file], /data-dir/],
    ['--data-dir under a file', (file: string) => ['--data-dir', join(file, 'sub')], /data-dir/],
    [
      '--store sqlite:<path under a file>',
      (file: string) => ['--data-dir', dir(), '--store', `sqlite:${join(file, 'x.db')}`],
      /store/,
    ],
  ])('an unusable %s → non-zero with a message naming the setting', async (_label, argsFor, message) => {
    const file = join(dir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const p = spawnCli(['serve', '--port', '0', ...argsFor(file)]);
    p.child.stdin.end();
    const started = await p.waitFor(/Connection string/, 20_000).then(
      () => true,
      () => false,
    );
    if (started) await p.kill();
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    expect(p.stderr()).toMatch(/^tessera: /m);
    expect(hasStackTrace(p.stderr())).toBe(false);
    expect(p.stderr()).toMatch(message);
  });

  it('a port already in use → non-zero with a message naming the port', async () => {
    const first = await serve(['--port', '0', '--data-dir', dir()]);
    const port = new URL(first.url).port;
    const p = spawnCli(['serve', '--port', port, '--data-dir', dir()]);
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    expect(p.stderr()).toMatch(new RegExp(`EADDRINUSE|in use|${port}`));
    expect(hasStackTrace(p.stderr())).toBe(false);
    await first.kill();
  });
});

describe('kill -9 right after acknowledged writes', () => {
  it('after a restart on the same data dir every acknowledged identity exists and every acknowledged revocation holds', async () => {
    const dataDir = dir();
    const first = await serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
    const target = targetOfServe(first);
    const client = identityClient(first.connectionString);

    // A batch of concurrent creates, each with a token; then, concurrently, revoke a third, delete a sixth and
    // create a second batch — and SIGKILL the moment the last of them is acknowledged.
    const created = await Promise.all(Array.from({ length: 30 }, () => client.createUserAndToken(['chat'])));
    const revoked = created.slice(0, 10);
    const deleted = created.slice(10, 15);
    const [, , late] = await Promise.all([
      Promise.all(revoked.map((c) => client.revokeTokens(c.user))),
      Promise.all(deleted.map((c) => client.deleteUser(c.user))),
      Promise.all(Array.from({ length: 20 }, () => client.createUserAndToken(['voip']))),
    ]);
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    const untouched = [...created.slice(15), ...late];

    const second = await serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
    expect(second.resourceId).toBe(first.resourceId);
    expect(second.accessKey).toBe(first.accessKey);
    expect(second.stdout()).not.toMatch(/\(created\)/);
    const t2 = targetOfServe(second);
    const client2 = identityClient(second.connectionString);

    for (const c of [...revoked, ...untouched]) {
      const token = await client2.getToken(c.user, ['chat']);
      expect(decodeToken(token.token).payload.sub).toBe(c.user.communicationUserId);
    }
    for (const c of revoked)
      expect(await introspect(t2, c.token)).toEqual({ active: false, reason: 'ERR_TOKEN_REVOKED' });
    for (const c of untouched) expect((await introspect(t2, c.token)).active).toBe(true);
    for (const c of deleted) {
      expect(await introspect(t2, c.token)).toEqual({ active: false, reason: 'ERR_TOKEN_IDENTITY_DELETED' });
      const error = restErrorOf(await client2.getToken(c.user, ['chat']).catch((e: unknown) => e));
      expect(error.code).toBe('IdentityDeleted');
    }
    // And the restarted server keeps working.
    const more = await createIdentity(t2, { createTokenWithScopes: ['chat'] });
    expect((await introspect(t2, more.accessToken?.token ?? '')).active).toBe(true);
    expect(target.accessKey).toBe(t2.accessKey);
    await second.kill();
  });
});

it('cleanEnv strips inherited TESSERA_* variables so each spawn sees only what the test gives it', () => {
  process.env.TESSERA_SHOULD_NOT_LEAK = '1';
  try {
    expect(cleanEnv().TESSERA_SHOULD_NOT_LEAK).toBeUndefined();
  } finally {
    delete process.env.TESSERA_SHOULD_NOT_LEAK;
  }
});
