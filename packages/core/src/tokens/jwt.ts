import { TesseraError } from '../errors.js';
import {
  base64UrlToBytesStrict,
  base64UrlToTextStrict,
  bytesToBase64Url,
  textToBase64Url,
} from '../encoding/base64.js';

/** The JOSE header of a Tessera token. */
export interface JwtHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
}

/** A JWT split into its parts, signature not yet checked. */
export interface DecodedJwt {
  /** Frozen, and shared by every token with the same header segment. */
  readonly header: JwtHeader;
  readonly payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)` — the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Uint8Array;
}

/** Longest token accepted for decoding; anything longer is refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;

/** Serialises header and payload into the JWS signing input. */
export function encodeSigningInput(header: JwtHeader, payload: object): string {
  return `${encodeJwtSegment(header)}.${encodeJwtSegment(payload)}`;
}

/** One JWS segment: `base64url(UTF-8(JSON))`. A signer encodes its constant header segment once with it. */
export function encodeJwtSegment(value: object): string {
  return textToBase64Url(JSON.stringify(value));
}

/** Appends a raw (IEEE P1363 for ECDSA) signature to a signing input. */
export function assembleJwt(signingInput: string, signature: Uint8Array): string {
  return `${signingInput}.${bytesToBase64Url(signature)}`;
}

function malformed(what: string): TesseraError {
  return new TesseraError('ERR_TOKEN_MALFORMED', `Token is malformed: ${what}.`);
}

function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  const text = base64UrlToTextStrict(part);
  if (text === undefined) throw malformed(`${name} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`${name} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${name} is not an object`);
  return value as Record<string, unknown>;
}

// Tokens signed with one key share one header segment, so decoded headers are memoised: the last one by plain
// string comparison (no hashing of a freshly sliced segment), others in a small map. Few keys live at once; the map is
// cleared when full, which bounds it against a stream of made-up headers.
const HEADERS = new Map<string, JwtHeader>();
const MAX_MEMOISED_HEADERS = 32;
let lastSegment = '';
let lastHeader: JwtHeader | undefined;

function decodeHeader(segment: string): JwtHeader {
  if (segment === lastSegment && lastHeader !== undefined) return lastHeader;
  let header = HEADERS.get(segment);
  if (header === undefined) {
    const decoded = decodeJsonPart(segment, 'header');
    if (typeof decoded.alg !== 'string') throw malformed("header has no 'alg'");
    if (decoded.kid !== undefined && typeof decoded.kid !== 'string') throw malformed("header 'kid' is not a string");
    // RFC 7515 §4.1.11: a recipient MUST reject a JWS whose `crit` names an extension it does not understand. Tessera
    // understands none (and an empty or malformed `crit` is invalid on its own), so any `crit` is refused.
    if (Object.hasOwn(decoded, 'crit')) throw malformed("header has a 'crit' member this verifier does not understand");
    header = Object.freeze(decoded) as unknown as JwtHeader;
    if (HEADERS.size >= MAX_MEMOISED_HEADERS) HEADERS.clear();
    HEADERS.set(segment, header);
  }
  lastSegment = segment;
  lastHeader = header;
  return header;
}

/** Options of {@link decodeJwt}. */
export interface DecodeJwtOptions {
  /** Longest token accepted (default {@link MAX_TOKEN_LENGTH}); tokens of other issuers may be longer. */
  readonly maxLength?: number | undefined;
}

/** A JWT with header and payload decoded and the signature left as its base64url segment. */
export interface SplitJwt {
  readonly header: JwtHeader;
  readonly payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)` — the bytes the signature covers. */
  readonly signingInput: string;
  /** The third segment, not yet decoded: non-empty, but its alphabet is only checked by decoding it. */
  readonly signatureSegment: string;
}

/**
 * Splits a compact JWS and decodes header and payload (strict unpadded base64url, strict UTF-8, JSON objects; a
 * header with `crit` is refused, RFC 7515 §4.1.11),
 * leaving the signature segment to a verifier that decodes it where it checks it. Throws `ERR_TOKEN_MALFORMED`.
 */
export function splitJwt(token: unknown, options: DecodeJwtOptions = {}): SplitJwt {
  if (typeof token !== 'string' || token.length === 0) throw malformed('not a string');
  if (token.length > (options.maxLength ?? MAX_TOKEN_LENGTH)) throw malformed('too long');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw malformed('expected three dot-separated parts');
  const header = decodeHeader(token.slice(0, first));
  const payload = decodeJsonPart(token.slice(first + 1, second), 'payload');
  if (second === token.length - 1) throw malformed('signature is not base64url');
  return { header, payload, signingInput: token.slice(0, second), signatureSegment: token.slice(second + 1) };
}

/**
 * Splits and decodes a compact JWS (strict unpadded base64url parts) without verifying it. Throws
 * `ERR_TOKEN_MALFORMED`.
 */
export function decodeJwt(token: unknown, options: DecodeJwtOptions = {}): DecodedJwt {
  const { header, payload, signingInput, signatureSegment } = splitJwt(token, options);
  const signature = base64UrlToBytesStrict(signatureSegment);
  if (signature === undefined || signature.length === 0) throw malformed('signature is not base64url');
  return { header, payload, signingInput, signature };
}
