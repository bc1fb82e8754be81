// A minimal token issuer for the cases a certified provider will not produce on demand: Kubernetes-style
// service-account tokens (JWKS at /openid/v1/jwks, as the API server publishes it), key rotation, odd algorithms,
// deliberately broken tokens, and a provider that is down, stalls or answers too much. Signs with node:crypto;
// counts requests and JWKS fetches. Shared by the @tessera/oidc, server and CLI tests.
import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A signing key of the fixture. */
export interface FixtureKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
  readonly privateKey: KeyObject;
  /** What the JWKS publishes (replace it to publish something odd). */
  readonly publicJwk: Record<string, unknown>;
}

const CURVES = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as const;

/** Creates a key pair for an algorithm. */
export function fixtureKey(kid: string, alg: FixtureKey['alg']): FixtureKey {
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg.startsWith('ES')
        ? generateKeyPairSync('ec', { namedCurve: CURVES[alg as keyof typeof CURVES] })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    alg,
    privateKey: pair.privateKey,
    publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' },
  };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs a compact JWS with node:crypto (`header` adds to or overrides `alg`, `typ` and `kid`). */
export function signJwt(
  key: FixtureKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header })}.${b64(payload)}`;
  const data = Buffer.from(input);
  const hash = `sha${key.alg.slice(2)}`;
  const signature =
    key.alg === 'EdDSA'
      ? sign(null, data, key.privateKey)
      : key.alg.startsWith('PS')
        ? sign(hash, data, {
            key: key.privateKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          })
        : key.alg.startsWith('RS')
          ? sign(hash, data, key.privateKey)
          : sign(hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** An HS256 token keyed with arbitrary bytes (the algorithm-confusion attack uses a public key as the secret). */
export function signHs256(secret: Buffer | string, payload: Record<string, unknown>, kid: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A running fixture issuer. */
export interface JwksFixture {
  readonly issuer: string;
  /** `<issuer>/openid/v1/jwks` (the Kubernetes path). */
  readonly jwksUri: string;
  /** Keys published in JWKS (mutable: rotate by replacing). */
  published: FixtureKey[];
  /** What the discovery document claims as issuer (tests a mismatch). */
  discoveryIssuer: string;
  /** What the discovery document names as `jwks_uri`. */
  discoveryJwksUri: string;
  /** Answer 503 to everything. */
  down: boolean;
  /** Accept requests but never answer them. */
  stall: boolean;
  /** Bytes of filler added to the JWKS document (tests the size limit). */
  jwksPadding: number;
  /** Every request received, discovery included, answered or not. */
  readonly requests: number;
  /** JWKS documents served. */
  readonly jwksFetches: number;
  close(): Promise<void>;
}

/** Starts the fixture on 127.0.0.1 with the given published keys. */
export async function startJwksFixture(published: FixtureKey[]): Promise<JwksFixture> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let fetches = 0;
  let requests = 0;
  const jwksUri = `${issuer}/openid/v1/jwks`;
  const fixture: JwksFixture = {
    issuer,
    jwksUri,
    published,
    discoveryIssuer: issuer,
    discoveryJwksUri: jwksUri,
    down: false,
    stall: false,
    jwksPadding: 0,
    get requests() {
      return requests;
    },
    get jwksFetches() {
      return fetches;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (req, res) => {
    requests++;
    if (fixture.stall) return;
    res.setHeader('content-type', 'application/json');
    if (fixture.down) {
      res.statusCode = 503;
      res.end('{}');
      return;
    }
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer: fixture.discoveryIssuer, jwks_uri: fixture.discoveryJwksUri }));
    } else if (req.url === '/openid/v1/jwks') {
      fetches++;
      const filler = fixture.jwksPadding > 0 ? { filler: 'x'.repeat(fixture.jwksPadding) } : {};
      res.end(JSON.stringify({ keys: fixture.published.map((k) => k.publicJwk), ...filler }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  return fixture;
}

/** A Kubernetes projected service-account token's claims. */
export function serviceAccountClaims(
  issuer: string,
  namespace: string,
  name: string,
  audience: string,
  lifetimeSeconds = 3600,
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: [audience],
    exp: now + lifetimeSeconds,
    iat: now,
    nbf: now,
    iss: issuer,
    sub: `system:serviceaccount:${namespace}:${name}`,
    'kubernetes.io': {
      namespace,
      pod: { name: `${name}-7d9f8b6c5-x2x4k`, uid: '0b2e1c44-5a4e-4f8e-9a43-2f0b8b1d7c11' },
      serviceaccount: { name, uid: '6c1d4f1e-8d2a-4b43-a4c6-6b7f0f3c2e55' },
    },
  };
}
