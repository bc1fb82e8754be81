// TLS (`tlsDev`: a development CA and localhost certificate built with node:crypto; `tlsCert`/`tlsKey` files)
// and the validation of the TLS and trusted-issuer settings, each failure naming its setting.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { isTesseraError } from '@tessera/core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveServerOptions, type ServerOptions } from '../../src/config/server-options.js';
import { ensureDevCertificates } from '../../src/crypto/dev-ca.js';
import { startServer } from '../../src/start-server.js';
import { tempDir } from '../e2e/helpers.js';
import { startTlsServer, tlsRequest } from './oidc-helpers.js';

const dirs: Array<{ cleanup(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('tessera-tls-');
  dirs.push(d);
  return d.path;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('tlsDev', () => {
  it('creates a CA and a localhost / 127.0.0.1 / ::1 certificate on first start and reuses them later', async () => {
    const dataDir = dir();
    const first = ensureDevCertificates(dataDir);
    expect(first.created).toBe(true);
    const ca = new X509Certificate(first.ca);
    const leaf = new X509Certificate(first.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(statSync(join(dataDir, 'tls', 'dev-ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'tls', 'localhost.key')).mode & 0o777).toBe(0o600);

    const second = ensureDevCertificates(dataDir);
    expect(second.created).toBe(false);
    expect(second.ca).toBe(first.ca);
    expect(second.cert).toBe(first.cert);
    // A certificate close to expiry is replaced, still signed by the same CA.
    const later = ensureDevCertificates(dataDir, new Date(Date.now() + 380 * 86_400_000));
    expect(later.ca).toBe(first.ca);
    expect(later.cert).not.toBe(first.cert);
    expect(new X509Certificate(later.cert).verify(ca.publicKey)).toBe(true);
  });

  it('serves https://127.0.0.1 and https://localhost trusted through the CA, with the same CA after a restart', async () => {
    const server = await startTlsServer();
    try {
      expect(server.server.devCaPath).toBe(join(server.dataDir, 'tls', 'dev-ca.pem'));
      expect((await get(`${server.url}healthz`, server.ca)).status).toBe(200);
      expect((await get(`${server.url.replace('127.0.0.1', 'localhost')}healthz`, server.ca)).status).toBe(200);
      // Untrusted without the CA.
      await expect(get(`${server.url}healthz`, '')).rejects.toThrow();
      const discovery = JSON.parse((await get(`${server.url}.well-known/openid-configuration`, server.ca)).body);
      expect(discovery.jwks_uri).toBe(`${server.url}.well-known/jwks.json`);
      await server.server.close();
      const again = await startTlsServer({ dataDir: server.dataDir });
      expect(again.ca).toBe(server.ca);
      expect((await tlsRequest(again, 'GET', '/admin/keys', { accessKey: server.primaryKey })).status).toBe(200);
      await again.server.close();
    } finally {
      await server.close();
    }
  });

  it('tlsCert / tlsKey serve an operator-provided certificate', async () => {
    const certs = ensureDevCertificates(dir());
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      dataDir: dir(),
      tlsCert: certs.certPath,
      tlsKey: certs.keyPath,
    });
    try {
      expect(server.url).toMatch(/^https:/);
      expect(server.devCaPath).toBeUndefined();
      expect((await get(`${server.url}healthz`, certs.ca)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

function configError(options: ServerOptions): { target: string | undefined; message: string } {
  try {
    resolveServerOptions(options);
  } catch (error) {
    if (isTesseraError(error, 'ERR_CONFIG_INVALID')) return { target: error.target, message: error.message };
    throw error;
  }
  throw new Error('expected ERR_CONFIG_INVALID');
}

describe('settings are validated at start, naming the setting', () => {
  it('TLS settings', () => {
    const certs = ensureDevCertificates(dir());
    expect(configError({ tlsCert: certs.certPath }).target).toBe('tls-key');
    expect(configError({ tlsKey: certs.keyPath }).target).toBe('tls-cert');
    expect(configError({ tlsCert: '/nonexistent.pem', tlsKey: certs.keyPath })).toMatchObject({
      target: 'tls-cert',
      message: expect.stringContaining('--tls-cert'),
    });
    expect(configError({ tlsDev: true, tlsCert: certs.certPath, tlsKey: certs.keyPath }).target).toBe('tls-dev');
    expect(resolveServerOptions({ tlsDev: true }).tls).toStrictEqual({ kind: 'dev' });
    expect(resolveServerOptions({}).tls).toBeUndefined();
  });

  it('trusted issuers: file, inline JSON, repeated URLs, and every malformed entry', () => {
    const path = join(dir(), 'issuers.json');
    writeFileSync(
      path,
      JSON.stringify({
        issuers: [
          {
            issuer: 'https://login.microsoftonline.com/tenant/v2.0',
            audiences: ['api://tessera'],
            exchange: { scopes: ['voip'] },
          },
        ],
      }),
    );
    const fromFile = resolveServerOptions({
      trustedIssuers: path,
      trustedIssuer: ['https://keycloak.example/realms/acme'],
    }).trustedIssuers;
    expect(fromFile.map((i) => i.issuer)).toStrictEqual([
      'https://login.microsoftonline.com/tenant/v2.0',
      'https://keycloak.example/realms/acme',
    ]);
    expect([...(fromFile[0]?.audiences ?? [])]).toStrictEqual([
      'https://communication.azure.com',
      'https://communication.azure.com/',
      'api://tessera',
    ]);
    expect(fromFile[0]?.discoveryUrl).toBe(
      'https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration',
    );
    expect(fromFile[0]?.exchange).toStrictEqual({ scopes: ['voip'], idFormat: 'uuid' });
    expect(fromFile[1]?.exchange).toBeUndefined();
    const inline = resolveServerOptions({ trustedIssuers: '[{"issuer":"http://127.0.0.1:5556"}]' }).trustedIssuers;
    expect(inline[0]?.issuer).toBe('http://127.0.0.1:5556');

    const bad: Array<[ServerOptions, string, string]> = [
      [{ trustedIssuers: '/nonexistent/issuers.json' }, 'trusted-issuers', 'cannot be read'],
      [{ trustedIssuers: '[{"issuer":' }, 'trusted-issuers', 'does not parse'],
      [{ trustedIssuers: [{ issuer: 'http://idp.example.com' }] }, 'trusted-issuers', 'https://'],
      [{ trustedIssuers: [{ issuer: 'not a url' }] }, 'trusted-issuers', 'issuers[0].issuer'],
      [
        { trustedIssuers: [{ issuer: 'https://a.example', audience: 'x' } as never] },
        'trusted-issuers',
        'issuers[0].audience',
      ],
      [{ trustedIssuers: [{ issuer: 'https://a.example', algorithms: ['HS256'] }] }, 'trusted-issuers', 'HS256'],
      [
        { trustedIssuers: [{ issuer: 'https://a.example', clockToleranceSeconds: -1 }] },
        'trusted-issuers',
        'clockToleranceSeconds',
      ],
      [
        { trustedIssuers: [{ issuer: 'https://a.example', exchange: { scopes: ['email'] } }] },
        'trusted-issuers',
        'scopes',
      ],
      [{ trustedIssuers: [{ issuer: 'https://a.example' }, 'https://a.example'] }, 'trusted-issuers', 'twice'],
      [{ trustedIssuer: ['ftp://a.example'] }, 'trusted-issuer', '--trusted-issuer'],
      [
        { trustedIssuers: [{ issuer: 'https://a.example' }], trustedIssuer: ['https://a.example'] },
        'trusted-issuer',
        'also in --trusted-issuers',
      ],
    ];
    for (const [options, target, text] of bad) {
      const error = configError(options);
      expect(error.target, JSON.stringify(options)).toBe(target);
      expect(error.message).toContain(text);
    }
  });

  it('startServer fails fast on a bad trusted-issuers file, before listening', async () => {
    const path = join(dir(), 'issuers.json');
    writeFileSync(path, JSON.stringify([{ issuer: 'https://a.example', jwksUri: 'http://evil.example/jwks' }]));
    const error = await startServer({ port: 0, logLevel: 'silent', dataDir: dir(), trustedIssuers: path }).catch(
      (e: unknown) => e,
    );
    expect(isTesseraError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('issuers[0].jwksUri');
    expect(readFileSync(path, 'utf8')).toContain('evil');
  });
});
