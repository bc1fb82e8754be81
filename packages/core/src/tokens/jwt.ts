import { TesseraError } from '../errors.js';
import { bytesToBase64Url, fromUtf8, utf8 } from '../encoding/base64.js';

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
  return `${bytesToBase64Url(utf8(JSON.stringify(header)))}.${bytesToBase64Url(utf8(JSON.stringify(payload)))}`;
}

/** Appends a raw (IEEE P1363 for ECDSA) signature to a signing input. */
export function assembleJwt(signingInput: string, signature: Uint8Array): string {
  return `${signingInput}.${bytesToBase64Url(signature)}`;
}

function malformed(what: string): TesseraError {
  return new TesseraError('ERR_TOKEN_MALFORMED', `Token is malformed: ${what}.`);
}

const NON_ASCII = /[\u0080-\u00ff]/;

/**
 * Strict unpadded base64url (RFC 7515 §2) → binary string, or undefined. `atob` is native everywhere core runs and
 * made decodeJwt about twice as fast as a JS loop (bench/decode-jwt.mjs), but it is forgiving: it takes '+' and
 * '/', and drops '=' padding and whitespace. So '+' and '/' are refused here, and anything atob dropped shows as a
 * decoded length short of ⌊3n/4⌋ (n ≢ 1 mod 4: one dropped character changes n mod 4 or the length, two or more
 * always the length). Cheaper than a regex test of the alphabet.
 */
function base64UrlToBinary(part: string): string | undefined {
  if (part.length % 4 === 1 || part.includes('+') || part.includes('/')) return undefined;
  let binary: string;
  try {
    binary = atob(part.replaceAll('-', '+').replaceAll('_', '/'));
  } catch {
    return undefined; // a character outside the alphabet
  }
  return binary.length === Math.floor((part.length * 3) / 4) ? binary : undefined;
}

function binaryToBytes(binary: string): Uint8Array {
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  const binary = base64UrlToBinary(part);
  // An ASCII binary string is already the text; anything else goes through the strict UTF-8 decoder.
  const text = binary === undefined || !NON_ASCII.test(binary) ? binary : fromUtf8(binaryToBytes(binary));
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

// Tokens signed with one key share one header segment, so decoded headers are memoised. Few keys live at once; the
// memo is cleared when full, which bounds it against a stream of made-up headers.
const HEADERS = new Map<string, JwtHeader>();
const MAX_MEMOISED_HEADERS = 32;

function decodeHeader(segment: string): JwtHeader {
  const memoised = HEADERS.get(segment);
  if (memoised !== undefined) return memoised;
  const header = decodeJsonPart(segment, 'header');
  if (typeof header.alg !== 'string') throw malformed("header has no 'alg'");
  if (header.kid !== undefined && typeof header.kid !== 'string') throw malformed("header 'kid' is not a string");
  const frozen = Object.freeze(header) as unknown as JwtHeader;
  if (HEADERS.size >= MAX_MEMOISED_HEADERS) HEADERS.clear();
  HEADERS.set(segment, frozen);
  return frozen;
}

/** Options of {@link decodeJwt}. */
export interface DecodeJwtOptions {
  /** Longest token accepted (default {@link MAX_TOKEN_LENGTH}); tokens of other issuers may be longer. */
  readonly maxLength?: number | undefined;
}

/**
 * Splits and decodes a compact JWS (strict unpadded base64url parts) without verifying it. Throws
 * `ERR_TOKEN_MALFORMED`.
 */
export function decodeJwt(token: unknown, options: DecodeJwtOptions = {}): DecodedJwt {
  if (typeof token !== 'string' || token.length === 0) throw malformed('not a string');
  if (token.length > (options.maxLength ?? MAX_TOKEN_LENGTH)) throw malformed('too long');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw malformed('expected three dot-separated parts');
  const header = decodeHeader(token.slice(0, first));
  const payload = decodeJsonPart(token.slice(first + 1, second), 'payload');
  const signature = base64UrlToBinary(token.slice(second + 1));
  if (signature === undefined || signature.length === 0) throw malformed('signature is not base64url');
  return { header, payload, signingInput: token.slice(0, second), signature: binaryToBytes(signature) };
}
