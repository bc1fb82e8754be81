// A fake identity server behind an injected `fetch`: discovery, JWKS and an SSE revocation feed the test drives.
// Used for unit tests that need a frozen clock and full control; the e2e test uses the real server.
import { createHmac, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import {
  type AccessKeyRef,
  assembleJwt,
  buildClaims,
  buildStringToSign,
  encodeSigningInput,
  formatRawId,
  isHighS,
  parseHmacAuthorization,
  type TokenScope,
  toLowS,
} from '@tessera/core';

export const ISSUER = 'urn:tessera:resource:test';
export const AUDIENCE = 'urn:tessera:user-access';
export const RESOURCE_ID = '1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b';
export const ENDPOINT = 'http://identity.test:8080/';
export const ACCESS_KEY = Buffer.alloc(32, 9).toString('base64');
export const CONNECTION_STRING = `endpoint=${ENDPOINT};accesskey=${ACCESS_KEY}`;
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, string>;
}

export function newSigningKey(kid = `kid-${randomUUID().slice(0, 8)}`): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, jwk };
}

export interface MintOptions {
  key: SigningKey;
  rawId?: string;
  scopes?: TokenScope[];
  nowMs?: number;
  lifetimeMinutes?: number;
  issuer?: string;
  audience?: string;
  epoch?: number;
  accessKey?: AccessKeyRef | undefined;
  /** Overrides applied to the payload after buildClaims. */
  patch?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** The ECDSA `s` form: `low` (default, what the server mints) or `high` (its malleated twin, s → n − s). */
  s?: 'low' | 'high';
}

/** The order of P-256: (r, n − s) verifies wherever (r, s) does. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The high-S twin of a low-S P1363 signature (BigInt, independent of core's byte arithmetic). */
function toHighS(signature: Uint8Array): Uint8Array {
  if (isHighS(signature)) return signature;
  const s = BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);
  signature.set(Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return signature;
}

export function newRawId(): string {
  return formatRawId(RESOURCE_ID, randomUUID());
}

/** Mints a token exactly as the contract says: core buildClaims, ES256 P1363 signature, kid header. */
export function mint(options: MintOptions): string {
  const claims = buildClaims({
    issuer: options.issuer ?? ISSUER,
    audience: options.audience ?? AUDIENCE,
    rawId: options.rawId ?? newRawId(),
    scopes: options.scopes ?? ['chat'],
    nowMs: options.nowMs ?? T0,
    lifetimeMinutes: options.lifetimeMinutes ?? 60,
    tokenId: randomUUID(),
    resourceLocation: 'unitedstates',
    region: 'amer',
    revocationEpoch: options.epoch ?? 0,
    accessKey: 'accessKey' in options ? options.accessKey : { name: 'primary', version: 1 },
  });
  const payload = { ...claims, ...options.patch };
  const header = options.header ?? { alg: 'ES256', typ: 'JWT', kid: options.key.kid };
  const input = encodeSigningInput(header as { alg: string }, payload);
  const signature = sign('sha256', Buffer.from(input), { key: options.key.privateKey, dsaEncoding: 'ieee-p1363' });
  return assembleJwt(input, options.s === 'high' ? toHighS(signature) : toLowS(signature));
}

interface FeedConnection {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  readonly lastEventId: string | undefined;
  closed: boolean;
}

export interface FeedRequestRecord {
  readonly headers: Record<string, string>;
  /** The HMAC signature checked out against ACCESS_KEY. */
  readonly signatureValid: boolean;
}

/** The fake server. Every response is produced in-process; nothing listens on a port. */
export class FakeIdentityServer {
  keys: SigningKey[];
  jwksFetches = 0;
  discoveryFetches = 0;
  discoveryAvailable = true;
  /** When set, the feed answers with this HTTP status instead of a stream. */
  feedStatus: number | undefined;
  /** The snapshot new subscribers without Last-Event-ID get. */
  snapshot = {
    seq: 0,
    identities: [] as Array<{ id: string; epoch: number; deleted: boolean; at?: number }>,
    keys: { primary: 1, secondary: 1 },
  };
  /** Whether to send the snapshot automatically on connect. */
  autoSnapshot = true;
  readonly feedRequests: FeedRequestRecord[] = [];
  readonly connections: FeedConnection[] = [];
  readonly #encoder = new TextEncoder();

  constructor(keys: SigningKey[] = [newSigningKey()]) {
    this.keys = keys;
  }

  get key(): SigningKey {
    const k = this.keys[0];
    if (k === undefined) throw new Error('no key');
    return k;
  }

  /** The injected fetch. */
  readonly fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    if (url.pathname === '/.well-known/openid-configuration') {
      this.discoveryFetches++;
      if (!this.discoveryAvailable) throw new TypeError('fetch failed');
      return Response.json({
        issuer: ISSUER,
        jwks_uri: `${ENDPOINT}.well-known/jwks.json`,
        introspection_endpoint: `${ENDPOINT}tokens/:introspect`,
        revocation_feed_endpoint: `${ENDPOINT}revocations`,
        tessera_audience: AUDIENCE,
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    if (url.pathname === '/.well-known/jwks.json') {
      this.jwksFetches++;
      return Response.json({ keys: this.keys.map((k) => k.jwk) });
    }
    if (url.pathname === '/revocations') return this.#feed(url, init);
    return new Response('not found', { status: 404 });
  };

  #feed(url: URL, init: RequestInit | undefined): Response {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    this.feedRequests.push({ headers, signatureValid: this.#checkHmac(url, headers) });
    if (init?.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    if (this.feedStatus !== undefined) return new Response('{"error":{}}', { status: this.feedStatus });
    const lastEventId = headers['last-event-id'];
    let conn: FeedConnection | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        conn = { controller, lastEventId, closed: false };
        this.connections.push(conn);
        controller.enqueue(this.#encoder.encode('retry: 1000\n\n'));
        if (this.autoSnapshot && lastEventId === undefined) {
          controller.enqueue(this.#encoder.encode(this.#frame('snapshot', this.snapshot, this.snapshot.seq)));
        }
        init?.signal?.addEventListener('abort', () => {
          if (conn !== undefined && !conn.closed) {
            conn.closed = true;
            controller.error(new DOMException('The operation was aborted.', 'AbortError'));
          }
        });
      },
      cancel: () => {
        if (conn !== undefined) conn.closed = true;
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }

  #checkHmac(url: URL, headers: Record<string, string>): boolean {
    try {
      const auth = parseHmacAuthorization(headers.authorization ?? '');
      const date = headers['x-ms-date'] ?? '';
      const expected = createHmac('sha256', Buffer.from(ACCESS_KEY, 'base64'))
        .update(
          buildStringToSign({
            method: 'GET',
            pathAndQuery: `${url.pathname}${url.search}`,
            date,
            host: url.host,
            contentHash: headers['x-ms-content-sha256'] ?? '',
          }),
        )
        .digest('base64');
      return (
        auth.signature === expected && headers['x-ms-content-sha256'] === '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
      );
    } catch {
      return false;
    }
  }

  #frame(event: string, data: unknown, id?: number): string {
    return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  get live(): FeedConnection | undefined {
    return this.connections.filter((c) => !c.closed).at(-1);
  }

  /** Sends raw text on the live feed connection. */
  sendRaw(text: string): void {
    const c = this.live;
    if (c === undefined) throw new Error('no live feed connection');
    c.controller.enqueue(this.#encoder.encode(text));
  }

  send(event: string, data: unknown, id?: number): void {
    this.sendRaw(this.#frame(event, data, id));
  }

  revoke(seq: number, identityId: string, epoch: number): void {
    this.send('identity.revoked', { seq, at: T0, identityId, epoch }, seq);
  }

  deleteIdentity(seq: number, identityId: string, epoch: number): void {
    this.send('identity.deleted', { seq, at: T0, identityId, epoch }, seq);
  }

  regenerateKey(seq: number, keyName: string, version: number): void {
    this.send('key.regenerated', { seq, at: T0, keyName, version }, seq);
  }

  heartbeat(seq = 0): void {
    this.send('heartbeat', { seq, at: T0 });
  }

  /** Ends the live connection cleanly (as a server restart would). */
  endFeed(): void {
    const c = this.live;
    if (c === undefined) return;
    c.closed = true;
    c.controller.close();
  }
}

/** Polls `predicate` every few ms until it holds (or fails after `timeoutMs`). */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The rejection of a promise (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}
