import { TesseraError } from '../errors.js';
import { base64ToBytes, bytesToBase64Url, fromUtf8, utf8 } from '../encoding/base64.js';

/** The JOSE header of a Tessera token. */
export interface JwtHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
}

/** A JWT split into its parts, signature not yet checked. */
export interface DecodedJwt {
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

function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  const bytes = base64ToBytes(part);
  const text = bytes === undefined ? undefined : fromUtf8(bytes);
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

/** Options of {@link decodeJwt}. */
export interface DecodeJwtOptions {
  /** Longest token accepted (default {@link MAX_TOKEN_LENGTH}); tokens of other issuers may be longer. */
  readonly maxLength?: number | undefined;
}

/** Splits and decodes a compact JWS without verifying it. Throws `ERR_TOKEN_MALFORMED`. */
export function decodeJwt(token: unknown, options: DecodeJwtOptions = {}): DecodedJwt {
  if (typeof token !== 'string' || token.length === 0) throw malformed('not a string');
  if (token.length > (options.maxLength ?? MAX_TOKEN_LENGTH)) throw malformed('too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('expected three dot-separated parts');
  const [h = '', p = '', s = ''] = parts;
  const header = decodeJsonPart(h, 'header');
  if (typeof header.alg !== 'string') throw malformed("header has no 'alg'");
  if (header.kid !== undefined && typeof header.kid !== 'string') throw malformed("header 'kid' is not a string");
  const payload = decodeJsonPart(p, 'payload');
  const signature = base64ToBytes(s);
  if (signature === undefined || signature.length === 0) throw malformed('signature is not base64url');
  return { header: header as unknown as JwtHeader, payload, signingInput: `${h}.${p}`, signature };
}
