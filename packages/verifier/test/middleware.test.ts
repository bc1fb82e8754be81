// The Fastify and Express adapters, each mounted on a real framework server listening on a real port.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createVerifier, type Verifier } from '@tessera/verifier';
import * as tesseraExpress from '@tessera/verifier/express';
import * as tesseraFastify from '@tessera/verifier/fastify';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_STRING, FakeIdentityServer, mint, newRawId, T0, until } from './helpers/fake-identity-server.js';

const idp = new FakeIdentityServer();
let verifier: Verifier;
beforeAll(async () => {
  verifier = createVerifier({ connectionString: CONNECTION_STRING, fetch: idp.fetch, clock: () => T0 });
  await verifier.ready();
});
afterAll(async () => {
  await verifier.close();
});

interface Answer {
  status: number;
  challenge: string | null;
  body: { identity?: string; error?: { code: string; innererror: { code: string } } };
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, base), {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed = (text === '' ? {} : JSON.parse(text)) as Answer['body'];
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: parsed };
}

// Shared expectations for both frameworks.
function behaves(base: () => string) {
  it('lets a valid token through and exposes the verified token to the handler', async () => {
    const me = newRawId();
    const r = await call(base(), 'GET', '/me', mint({ key: idp.key, rawId: me }));
    expect(r).toMatchObject({ status: 200, body: { identity: me } });
  });

  it('401 with a bare Bearer challenge without a token', async () => {
    const r = await call(base(), 'GET', '/me');
    expect(r.status).toBe(401);
    expect(r.challenge).toBe('Bearer');
    expect(r.body.error?.innererror.code).toBe('ERR_AUTH_MISSING');
  });

  it('401 invalid_token for a forged token, with the ACS error body', async () => {
    const token = mint({ key: idp.key });
    const r = await call(base(), 'GET', '/me', `${token.slice(0, -6)}AAAAAA`);
    expect(r.status).toBe(401);
    expect(r.challenge).toMatch(/^Bearer error="invalid_token", error_description="/);
    expect(r.body.error).toMatchObject({ code: 'InvalidAccessToken', innererror: { code: 'ERR_TOKEN_BAD_SIGNATURE' } });
  });

  it('401 ERR_TOKEN_REVOKED once the feed revokes the identity', async () => {
    const me = newRawId();
    const token = mint({ key: idp.key, rawId: me });
    expect((await call(base(), 'GET', '/me', token)).status).toBe(200);
    const seq = (verifier.status().seq ?? 0) + 1;
    idp.revoke(seq, me, 1);
    await until(() => verifier.status().seq === seq);
    const r = await call(base(), 'GET', '/me', token);
    expect(r.status).toBe(401);
    expect(r.body.error?.innererror.code).toBe('ERR_TOKEN_REVOKED');
  });

  it('403 insufficient_scope when the capability is missing; 201 when present', async () => {
    const limited = await call(base(), 'POST', '/threads', mint({ key: idp.key, scopes: ['chat.join'] }));
    expect(limited.status).toBe(403);
    expect(limited.challenge).toContain('error="insufficient_scope"');
    expect(limited.challenge).toContain('scope="chat"');
    expect(limited.body.error?.innererror.code).toBe('ERR_CAPABILITY_DENIED');
    expect((await call(base(), 'POST', '/threads', mint({ key: idp.key, scopes: ['chat'] }))).status).toBe(201);
  });

  it('uses the per-request context: only the sender may delete a message', async () => {
    const me = newRawId();
    const token = mint({ key: idp.key, rawId: me, scopes: ['chat.join.limited'] });
    expect((await call(base(), 'DELETE', '/messages', token, { sender: me })).status).toBe(204);
    const other = await call(base(), 'DELETE', '/messages', token, { sender: newRawId() });
    expect(other.status).toBe(403);
    expect(other.challenge).toBeNull();
  });
}

describe('Fastify (@tessera/verifier/fastify)', () => {
  let app: FastifyInstance;
  let base = '';
  beforeAll(async () => {
    app = Fastify();
    await app.register(tesseraFastify.tesseraPlugin, { verifier });
    app.get('/me', { onRequest: tesseraFastify.tesseraHook(verifier) }, async (request) => ({
      identity: request.tessera?.identity,
    }));
    app.post(
      '/threads',
      { preHandler: tesseraFastify.requireCapability(verifier, 'chat.thread.create') },
      async (_request, reply) => reply.code(201).send({ id: '19:thread' }),
    );
    app.delete(
      '/messages',
      {
        preHandler: tesseraFastify.requireCapability(verifier, 'chat.message.deleteOwn', (request) => ({
          messageSenderId: (request.body as { sender: string }).sender,
        })),
      },
      async (_request, reply) => reply.code(204).send(),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await app.close();
  });
  behaves(() => base);

  it('tesseraPlugin with requireToken guards every route of the application', async () => {
    const guarded = Fastify();
    await guarded.register(tesseraFastify.tesseraPlugin, { verifier, requireToken: true });
    guarded.get('/anything', async (request) => ({ identity: request.tessera?.identity }));
    const denied = await guarded.inject({ method: 'GET', url: '/anything' });
    expect(denied.statusCode).toBe(401);
    const me = newRawId();
    const ok = await guarded.inject({
      method: 'GET',
      url: '/anything',
      headers: { authorization: `Bearer ${mint({ key: idp.key, rawId: me })}` },
    });
    expect(ok.json()).toEqual({ identity: me });
    await guarded.close();
  });
});

describe('Express (@tessera/verifier/express)', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    const app = express();
    app.use(express.json());
    app.get('/me', tesseraExpress.tesseraMiddleware(verifier), (req, res) => {
      res.json({ identity: req.tessera?.identity, same: res.locals.tessera === req.tessera });
    });
    app.post('/threads', tesseraExpress.requireCapability(verifier, 'chat.thread.create'), (_req, res) => {
      res.status(201).json({ id: '19:thread' });
    });
    app.delete(
      '/messages',
      tesseraExpress.requireCapability(verifier, 'chat.message.deleteOwn', (req) => ({
        messageSenderId: (req.body as { sender: string }).sender,
      })),
      (_req, res) => {
        res.status(204).end();
      },
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  behaves(() => base);

  it('a failing context lookup answers 500 without leaking its message', async () => {
    const app = express();
    app.get(
      '/boom',
      tesseraExpress.requireCapability(verifier, 'chat.message.deleteOwn', () => {
        throw new Error('lookup failed');
      }),
      (_req, res) => {
        res.json({});
      },
    );
    const s = await new Promise<Server>((resolve) => {
      const x = app.listen(0, '127.0.0.1', () => resolve(x));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/boom`, {
        headers: { authorization: `Bearer ${mint({ key: idp.key })}` },
      });
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('lookup failed');
    } finally {
      await new Promise((resolve) => s.close(resolve));
    }
  });
});
