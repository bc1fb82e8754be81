import { createHmac, hash, type KeyObject, timingSafeEqual } from 'node:crypto';
import { buildStringToSign, parseHmacAuthorization, parseHttpDate, TesseraError } from '@tessera/core';

/**
 * The data actions of the Rooms API: manage rooms and rosters (`rooms/write`), read them (`rooms/read`), and ask
 * for call decisions (`rooms/decide`, what a media or signalling server needs).
 */
export const ROOMS_DATA_ACTIONS = ['rooms/read', 'rooms/write', 'rooms/decide'] as const;

/** One Rooms data action. */
export type RoomsDataAction = (typeof ROOMS_DATA_ACTIONS)[number];

/** An access key accepted for HMAC-SHA256 requests. */
export interface RoomsAccessKey {
  /** A label for logs (`primary`, `secondary`); never the secret. */
  readonly name: string;
  /** The decoded key bytes, or a secret `KeyObject` (what the identity server hands a mounted plugin). */
  readonly secret: Uint8Array | KeyObject;
  /** The data actions the key holds. Default: all of {@link ROOMS_DATA_ACTIONS}. */
  readonly actions?: ReadonlySet<RoomsDataAction> | undefined;
}

/** Who calls the Rooms API: an access key (HMAC) or the subject of a trusted bearer token (OIDC). */
export type RoomsPrincipal =
  | { readonly kind: 'accessKey'; readonly name: string; readonly actions: ReadonlySet<RoomsDataAction> }
  | {
      readonly kind: 'bearer';
      readonly issuer: string;
      readonly subject: string;
      readonly actions: ReadonlySet<RoomsDataAction>;
    };

/**
 * Verifies `Authorization: Bearer <jwt>` of a trusted issuer and says which Rooms data actions its subject holds.
 * Rejects with a `TesseraError` (`ERR_TOKEN_*`, `ERR_ISSUER_UNAVAILABLE`). Mounted in `tessera serve`, the identity
 * server passes one built on its role assignments; standalone, {@link createRoomsOidcAuthenticator} builds one.
 */
export type RoomsBearerAuthenticator = (token: string) => Promise<RoomsPrincipal>;

/** The facts of a request authentication looks at. */
export interface RoomsAuthRequest {
  readonly method: string;
  /** Path and query exactly as received (still percent-encoded). */
  readonly rawUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The exact body bytes. */
  readonly body: Buffer;
  /** The local port the request arrived on. */
  readonly localPort?: number | undefined;
}

/** Options of {@link createRoomsAuthenticator}. */
export interface RoomsAuthenticatorOptions {
  /** The access keys accepted now (a function, so a key regenerated elsewhere is seen at once). */
  readonly accessKeys: () => readonly RoomsAccessKey[];
  /** Bearer tokens; without it a Bearer request answers 401 `ERR_AUTH_UNSUPPORTED_SCHEME`. */
  readonly bearer?: RoomsBearerAuthenticator | undefined;
  /** Largest accepted distance between `x-ms-date` and now, ms. Default 15 minutes. */
  readonly maxClockSkewMs?: number | undefined;
  /** The public endpoint's host (with port), accepted as the signed host behind a proxy. */
  readonly publicHost?: string | undefined;
  readonly clock: () => number;
}

/** Authenticates a request to a principal or throws a 401 `TesseraError`. */
export type RoomsAuthenticator = (request: RoomsAuthRequest) => Promise<RoomsPrincipal>;

const ALL_ACTIONS: ReadonlySet<RoomsDataAction> = new Set(ROOMS_DATA_ACTIONS);

function header(headers: RoomsAuthRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function denied(code: ConstructorParameters<typeof TesseraError>[0], message: string): TesseraError {
  return new TesseraError(code, message);
}

/** The signed host must be this service: the configured public host, or any name with the port we listen on. */
function hostIsOurs(host: string, publicHost: string | undefined, localPort: number | undefined): boolean {
  const given = host.toLowerCase();
  if (publicHost !== undefined && given === publicHost.toLowerCase()) return true;
  let port: string;
  try {
    port = new URL(`http://${given}`).port;
  } catch {
    return false;
  }
  // No port in the host: the scheme's default, 80 or 443.
  if (port === '') return localPort === 80 || localPort === 443;
  return localPort !== undefined && port === String(localPort);
}

/** The path-and-query forms SDKs sign: as sent, and the JS SDK's re-serialised query (`%20` → `+`). */
function candidatePaths(rawUrl: string): string[] {
  const paths = [rawUrl];
  const q = rawUrl.indexOf('?');
  if (q >= 0) {
    const normalized = `${rawUrl.slice(0, q)}?${new URLSearchParams(rawUrl.slice(q + 1)).toString()}`;
    if (normalized !== rawUrl) paths.push(normalized);
  }
  return paths;
}

/**
 * Verifies an ACS HMAC-SHA256 request with core's string-to-sign and returns the key that signed it. Each failure is
 * a distinct `ERR_AUTH_*` code naming the part that is wrong, never a secret.
 */
export function verifyHmacRequest(
  request: RoomsAuthRequest,
  keys: readonly RoomsAccessKey[],
  options: { readonly nowMs: number; readonly maxSkewMs: number; readonly publicHost?: string | undefined },
): RoomsAccessKey {
  const authorization = header(request.headers, 'authorization')?.trim();
  if (authorization === undefined || authorization === '') {
    throw denied('ERR_AUTH_MISSING', "The request has no 'Authorization' header.");
  }
  const auth = parseHmacAuthorization(authorization);
  for (const name of ['x-ms-date', 'host', 'x-ms-content-sha256']) {
    if (!auth.signedHeaders.includes(name)) {
      throw denied('ERR_AUTH_MALFORMED', "SignedHeaders must be 'x-ms-date;host;x-ms-content-sha256'.");
    }
  }
  const date = header(request.headers, 'x-ms-date') ?? '';
  const host = header(request.headers, 'host') ?? '';
  const claimedHash = header(request.headers, 'x-ms-content-sha256') ?? '';
  for (const [name, value] of [
    ['x-ms-date', date],
    ['host', host],
    ['x-ms-content-sha256', claimedHash],
  ] as const) {
    if (value === '') throw denied('ERR_AUTH_MISSING_HEADER', `The signed header '${name}' is missing.`);
  }
  const dateMs = parseHttpDate(date);
  if (dateMs === undefined) {
    throw denied('ERR_AUTH_DATE_INVALID', "The 'x-ms-date' header is not an RFC 1123 date.");
  }
  if (Math.abs(options.nowMs - dateMs) > options.maxSkewMs) {
    throw denied(
      'ERR_AUTH_DATE_OUT_OF_RANGE',
      `The 'x-ms-date' header is more than ${Math.round(options.maxSkewMs / 1000)} seconds away from the server's clock.`,
    );
  }
  if (claimedHash !== hash('sha256', request.body, 'base64')) {
    throw denied(
      'ERR_AUTH_CONTENT_HASH_MISMATCH',
      "Request 'x-ms-content-sha256' differs from generated content hash.",
    );
  }
  if (!hostIsOurs(host, options.publicHost, request.localPort)) {
    throw denied(
      'ERR_AUTH_HOST_MISMATCH',
      "The signed 'host' is not this server's; behind a proxy, set the public URL.",
    );
  }
  const given = Buffer.from(auth.signature, 'base64');
  for (const path of candidatePaths(request.rawUrl)) {
    const stringToSign = buildStringToSign({
      method: request.method,
      pathAndQuery: path,
      date,
      host,
      contentHash: claimedHash,
    });
    for (const key of keys) {
      const expected = createHmac('sha256', key.secret).update(stringToSign, 'utf8').digest();
      if (expected.length === given.length && timingSafeEqual(expected, given)) return key;
    }
  }
  throw denied(
    'ERR_AUTH_SIGNATURE_MISMATCH',
    'The HMAC signature does not match: check the access key and that method, path and query, x-ms-date, host (with port) and content hash are signed as sent.',
  );
}

/** HMAC-SHA256 access keys always; bearer tokens of trusted issuers when `bearer` is configured. */
export function createRoomsAuthenticator(options: RoomsAuthenticatorOptions): RoomsAuthenticator {
  const maxSkewMs = options.maxClockSkewMs ?? 15 * 60_000;
  return async (request) => {
    const value = header(request.headers, 'authorization');
    if (value !== undefined && /^bearer\s/i.test(value)) {
      if (options.bearer === undefined) {
        throw new TesseraError(
          'ERR_AUTH_UNSUPPORTED_SCHEME',
          'Bearer authentication is not configured for the Rooms API; sign requests with an access key (HMAC-SHA256).',
        );
      }
      return options.bearer(value.replace(/^bearer\s+/i, '').trim());
    }
    const key = verifyHmacRequest(request, options.accessKeys(), {
      nowMs: options.clock(),
      maxSkewMs,
      publicHost: options.publicHost,
    });
    return { kind: 'accessKey', name: key.name, actions: key.actions ?? ALL_ACTIONS };
  };
}

/** Throws 403 `ERR_FORBIDDEN` naming the data action the principal lacks. */
export function requireAction(principal: RoomsPrincipal, action: RoomsDataAction): void {
  if (!principal.actions.has(action)) {
    throw new TesseraError('ERR_FORBIDDEN', `The caller lacks the data action '${action}'.`, { details: { action } });
  }
}
