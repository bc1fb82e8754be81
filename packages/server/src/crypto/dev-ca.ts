import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

// A development CA and a localhost server certificate, built with node:crypto and a few lines of DER
// (RFC 5280), so `--tls-dev` needs neither the openssl binary nor a dependency. ECDSA P-256 / SHA-256.

// ---------------------------------------------------------------------------------------------------------------
// DER

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
/** Context-specific, constructed (EXPLICIT) tag. */
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 | n, content);

function integer(value: Buffer | number): Buffer {
  let bytes = typeof value === 'number' ? Buffer.from([value]) : value;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  // A set high bit would read as negative: prefix a zero byte.
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

function bitString(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  nameConstraints: '2.5.29.30',
} as const;

function name(commonName: string): Buffer {
  return seq(
    set(seq(oid(OID.organization), utf8String('Tessera development'))),
    set(seq(oid(OID.commonName), utf8String(commonName))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** KeyUsage bits, most significant first: digitalSignature(0) … keyCertSign(5), cRLSign(6). */
function keyUsage(bits: readonly number[]): Buffer {
  let byte = 0;
  for (const bit of bits) byte |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && ((byte >> unused) & 1) === 0) unused++;
  return bitString(Buffer.from([byte]), unused);
}

function subjectAltName(hosts: readonly string[]): Buffer {
  return seq(
    ...hosts.map((host) => {
      if (isIP(host) === 4) return tlv(0x87, Buffer.from(host.split('.').map(Number)));
      if (isIP(host) === 6) return tlv(0x87, ipv6Bytes(host));
      return tlv(0x82, Buffer.from(host, 'ascii'));
    }),
  );
}

/**
 * NameConstraints (RFC 5280 §4.2.1.10) permitting only the development hosts: dNSName `localhost` (and names under
 * it), iPAddress 127.0.0.1/32 and ::1/128. A verifier that honours the extension (OpenSSL, browsers, Node's TLS)
 * refuses any certificate this CA signs for another host, so a leaked development CA key cannot impersonate one.
 */
function nameConstraints(): Buffer {
  const subtree = (generalName: Buffer) => seq(generalName);
  return seq(
    tlv(
      0xa0, // permittedSubtrees [0] IMPLICIT
      Buffer.concat([
        subtree(tlv(0x82, Buffer.from('localhost', 'ascii'))),
        subtree(tlv(0x87, Buffer.from([127, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]))),
        subtree(tlv(0x87, Buffer.concat([ipv6Bytes('::1'), Buffer.alloc(16, 0xff)]))),
      ]),
    ),
  );
}

/** True when a certificate carries the NameConstraints extension (its OID in the DER). */
export function hasNameConstraints(cert: X509Certificate): boolean {
  return cert.raw.includes(oid(OID.nameConstraints));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

interface CertificateInput {
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: KeyObject;
  readonly issuerPublicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
  readonly hosts?: readonly string[];
}

/** Builds and signs an X.509 v3 certificate; returns PEM. */
function buildCertificate(input: CertificateInput): string {
  const spki = input.publicKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = input.issuerPublicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const extensions = [
    extension(OID.basicConstraints, true, input.ca ? seq(bool(true), integer(0)) : seq()),
    extension(OID.keyUsage, true, input.ca ? keyUsage([0, 5, 6]) : keyUsage([0])),
    extension(OID.subjectKeyIdentifier, false, octets(keyId(spki))),
    extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId(issuerSpki)))),
  ];
  if (input.ca) extensions.push(extension(OID.nameConstraints, true, nameConstraints()));
  else {
    extensions.push(extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))));
    extensions.push(extension(OID.subjectAltName, false, subjectAltName(input.hosts ?? [])));
  }
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial),
    algorithm,
    name(input.issuer),
    seq(time(input.notBefore), time(input.notAfter)),
    name(input.subject),
    spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, input.signingKey);
  const der = seq(tbs, algorithm, bitString(signature));
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// the development CA

/** The files `--tls-dev` keeps under `<data-dir>/tls/`. */
export interface DevCertificates {
  /** The CA certificate to trust: `NODE_EXTRA_CA_CERTS=<caPath>`. */
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM of the server certificate followed by the CA certificate. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** True when this call created the CA (first start). */
  readonly created: boolean;
  /**
   * False for a CA created before Tessera added name constraints (it can sign for any host): the server warns, and
   * deleting `<data-dir>/tls/` makes a constrained one on the next start (to be trusted again).
   */
  readonly constrained: boolean;
}

const DAY_MS = 86_400_000;
/** Hosts the development certificate is valid for. */
export const DEV_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

function writeSecret(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Returns the development CA and a server certificate for localhost / 127.0.0.1 / ::1 under `<dataDir>/tls/`,
 * creating the CA on first start and a new server certificate whenever it is missing, about to expire, or was
 * not signed by the CA on disk. The CA's private key never leaves the data dir (mode 0600).
 */
export function ensureDevCertificates(dataDir: string, now: Date = new Date()): DevCertificates {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, 'dev-ca.pem');
  const caKeyPath = join(dir, 'dev-ca.key');
  const certPath = join(dir, 'localhost.pem');
  const keyPath = join(dir, 'localhost.key');

  let created = false;
  if (!existsSync(caPath) || !existsSync(caKeyPath)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const subject = `Tessera development CA ${randomBytes(4).toString('hex')}`;
    const pem = buildCertificate({
      subject,
      issuer: subject,
      publicKey,
      issuerPublicKey: publicKey,
      signingKey: privateKey,
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + 3650 * DAY_MS),
      ca: true,
    });
    writeSecret(caKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(caPath, pem);
    created = true;
  }
  const caPem = readFileSync(caPath, 'utf8');
  const caCert = new X509Certificate(caPem);
  const caKey = createPrivateKey(readFileSync(caKeyPath, 'utf8'));

  const usable = (): boolean => {
    if (created || !existsSync(certPath) || !existsSync(keyPath)) return false;
    try {
      const cert = new X509Certificate(readFileSync(certPath, 'utf8'));
      return cert.verify(caCert.publicKey) && new Date(cert.validTo).getTime() - now.getTime() > 30 * DAY_MS;
    } catch {
      return false;
    }
  };
  if (!usable()) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = buildCertificate({
      subject: 'localhost',
      issuer:
        caCert.subject
          .split('\n')
          .find((line) => line.startsWith('CN='))
          ?.slice(3) ?? 'Tessera development CA',
      publicKey,
      issuerPublicKey: caCert.publicKey,
      signingKey: caKey,
      notBefore: new Date(now.getTime() - DAY_MS),
      // 397 days: the longest server certificate lifetime browsers accept.
      notAfter: new Date(now.getTime() + 397 * DAY_MS),
      ca: false,
      hosts: DEV_HOSTS,
    });
    writeSecret(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(certPath, pem);
  }
  return {
    caPath,
    certPath,
    keyPath,
    cert: readFileSync(certPath, 'utf8') + caPem,
    key: readFileSync(keyPath, 'utf8'),
    ca: caPem,
    created,
    constrained: hasNameConstraints(caCert),
  };
}
