// Issue #16: the development CA carries a critical NameConstraints extension permitting only localhost, 127.0.0.1/32
// and ::1/128, so its key — which lives in the data dir — cannot sign a certificate another host would accept. Checked
// with node:crypto, the openssl binary (certificates for other hosts made by openssl itself, signed with the CA key)
// and a real TLS handshake through Node's OpenSSL.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_HOSTS, ensureDevCertificates, hasNameConstraints } from '../../src/crypto/dev-ca.js';
import { tempDir } from '../e2e/helpers.js';

const dir = tempDir('tessera-dev-ca-');
let ca: ReturnType<typeof ensureDevCertificates>;
beforeAll(() => {
  ca = ensureDevCertificates(dir.path);
});
afterAll(() => dir.cleanup());

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });

/** `openssl verify` against the development CA: 'OK', or the error line. */
function verifyWithOpenssl(certPath: string): string {
  try {
    return openssl('verify', '-CAfile', ca.caPath, certPath).trim().endsWith(': OK') ? 'OK' : 'unexpected';
  } catch (error) {
    const out = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    return /error \d+ at \d+ depth lookup: (.*)/.exec(out)?.[1] ?? out;
  }
}

/** A certificate for `san` (e.g. `DNS:example.com`), made and signed by openssl with the development CA's key. */
function signedByDevCa(label: string, cn: string, san: string): { certPath: string; keyPath: string } {
  const base = join(dir.path, 'issued');
  mkdirSync(base, { recursive: true });
  const keyPath = join(base, `${label}.key`);
  const csrPath = join(base, `${label}.csr`);
  const certPath = join(base, `${label}.pem`);
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath);
  openssl('req', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`, '-out', csrPath);
  openssl(
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    ca.caPath,
    '-CAkey',
    join(dir.path, 'tls', 'dev-ca.key'),
    '-copy_extensions',
    'copy',
    '-days',
    '2',
    '-out',
    certPath,
  );
  return { certPath, keyPath };
}

describe('development CA name constraints', () => {
  it('the CA carries a critical NameConstraints permitting exactly localhost, 127.0.0.1/32 and ::1/128', () => {
    expect(ca.constrained).toBe(true);
    expect(hasNameConstraints(new X509Certificate(ca.ca))).toBe(true);
    const text = openssl('x509', '-in', ca.caPath, '-noout', '-text');
    const block = /X509v3 Name Constraints: critical\n\s+Permitted:\n((?:\s+(?:DNS|IP):.*\n)+)/.exec(text);
    expect(block?.[1]?.trim().split(/\n\s+/)).toEqual([
      'DNS:localhost',
      'IP:127.0.0.1/255.255.255.255',
      'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
    ]);
    expect(text).not.toMatch(/Excluded:/);
    expect(DEV_HOSTS).toEqual(['localhost', '127.0.0.1', '::1']);
  });

  it('the server certificate Tessera makes (localhost, 127.0.0.1, ::1) verifies under it with openssl', () => {
    expect(verifyWithOpenssl(ca.certPath)).toBe('OK');
  });

  it('openssl-made certificates for the permitted names verify (the constraint, not the tool, decides below)', () => {
    expect(verifyWithOpenssl(signedByDevCa('localhost', 'localhost', 'DNS:localhost').certPath)).toBe('OK');
    expect(verifyWithOpenssl(signedByDevCa('ip4', 'localhost', 'IP:127.0.0.1').certPath)).toBe('OK');
    expect(verifyWithOpenssl(signedByDevCa('sub', 'app.localhost', 'DNS:app.localhost').certPath)).toBe('OK');
  });

  it.each([
    ['another DNS name', 'example.com', 'DNS:example.com'],
    ['a name that only starts with localhost', 'localhost.example.com', 'DNS:localhost.example.com'],
    ['another IPv4 address', 'localhost', 'IP:10.0.0.1'],
    ['another IPv6 address', 'localhost', 'IP:2001:db8::1'],
    ['a permitted name beside a foreign one', 'localhost', 'DNS:localhost,DNS:bank.example'],
  ])('a certificate for %s signed with the leaked CA key fails openssl verify', (label, cn, san) => {
    const { certPath } = signedByDevCa(label.replace(/\W+/g, '-'), cn, san);
    // The signature itself is the CA's: only the name constraint stands in the way.
    expect(new X509Certificate(readFileSync(certPath)).verify(new X509Certificate(ca.ca).publicKey)).toBe(true);
    expect(verifyWithOpenssl(certPath)).toBe('permitted subtree violation');
  });

  /** A TLS handshake with a server presenting `files`, from a client trusting only the development CA. */
  async function handshake(
    files: { certPath: string; keyPath: string },
    servername: string,
  ): Promise<Error | undefined> {
    const server = createServer({ cert: readFileSync(files.certPath), key: readFileSync(files.keyPath) }, (_q, r) =>
      r.end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      return await new Promise<Error | undefined>((resolve) => {
        const port = (server.address() as AddressInfo).port;
        const socket = connect({ host: '127.0.0.1', port, ca: ca.ca, servername }, () => {
          socket.end();
          resolve(undefined);
        });
        socket.on('error', resolve);
      });
    } finally {
      server.close();
    }
  }

  it('a Node TLS client trusting the dev CA refuses a leaked-key certificate for example.com, accepts one for localhost', async () => {
    const foreign = await handshake(signedByDevCa('tls-example', 'example.com', 'DNS:example.com'), 'example.com');
    // Node has no code of its own for X509_V_ERR_PERMITTED_VIOLATION: the message is OpenSSL's.
    expect(foreign?.message).toBe('permitted subtree violation');
    expect(await handshake(signedByDevCa('tls-localhost', 'localhost', 'DNS:localhost'), 'localhost')).toBeUndefined();
  });

  it('a CA made before name constraints is reported as unconstrained, for the server to warn', () => {
    const old = tempDir('tessera-old-ca-');
    try {
      const tls = join(old.path, 'tls');
      mkdirSync(tls, { recursive: true });
      openssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(tls, 'dev-ca.key'),
        '-subj',
        '/CN=old dev CA',
        '-days',
        '30',
        '-out',
        join(tls, 'dev-ca.pem'),
      );
      expect(ensureDevCertificates(old.path).constrained).toBe(false);
    } finally {
      old.cleanup();
    }
  });
});
