import { readFileSync } from 'node:fs';

/** One HMAC case of test-vectors/hmac.json, recorded from the official Azure SDK. */
export interface HmacVector {
  readonly name: string;
  readonly sdkCall: string;
  readonly note?: string;
  readonly method: string;
  readonly url: string;
  readonly requestTarget: string;
  readonly host: string;
  readonly date: string;
  readonly body: string;
  readonly contentType: string | null;
  readonly accessKey: string;
  readonly expected: {
    readonly contentHash: string;
    readonly pathAndQuery: string;
    readonly stringToSign: string;
    readonly signature: string;
    readonly authorization: string;
  };
}

/** Inputs of buildClaims as stored in JSON (no undefined in JSON: optional fields are absent). */
export interface BuildClaimsVectorInput {
  readonly issuer: string;
  readonly audience: string;
  readonly rawId: string;
  readonly scopes: readonly ('chat' | 'chat.join' | 'chat.join.limited' | 'voip' | 'voip.join')[];
  readonly nowMs: number;
  readonly lifetimeMinutes: number;
  readonly tokenId: string;
  readonly resourceLocation: string;
  readonly region: string;
  readonly revocationEpoch: number;
  readonly accessKey?: { readonly name: 'primary' | 'secondary'; readonly version: number };
  readonly expiresAt?: number;
}

/** test-vectors/tokens.json. */
export interface TokenVectors {
  readonly frozenClock: { readonly nowMs: number; readonly iso: string };
  readonly buildClaims: readonly {
    readonly name: string;
    readonly input: BuildClaimsVectorInput;
    readonly expected: Record<string, unknown>;
  }[];
  readonly parseClaimsInvalid: {
    readonly base: Record<string, unknown>;
    readonly cases: readonly {
      readonly name: string;
      readonly remove?: readonly string[];
      readonly set?: Record<string, unknown>;
      readonly code: string;
    }[];
  };
  readonly decodeJwtMalformed: readonly { readonly name: string; readonly token: unknown; readonly code: string }[];
  readonly decodeJwtValid: readonly {
    readonly name: string;
    readonly token: string;
    readonly expected: { readonly header: Record<string, unknown>; readonly signingInputLength: number };
  }[];
  readonly es256: {
    readonly buildClaimsCase: string;
    readonly publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' };
    readonly header: { alg: string; typ: string; kid: string };
    readonly token: string;
  };
}

function load(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../../test-vectors/${name}`, import.meta.url), 'utf8'));
}

/** The HMAC vectors (cases only). */
export function hmacVectors(): readonly HmacVector[] {
  return (load('hmac.json') as { cases: HmacVector[] }).cases;
}

/** The token vectors. */
export function tokenVectors(): TokenVectors {
  return load('tokens.json') as TokenVectors;
}
