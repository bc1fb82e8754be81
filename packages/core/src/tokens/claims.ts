import { TesseraError } from '../errors.js';
import { isRawId, parseRawId } from '../identity/raw-id.js';
import { isTokenScope, type TokenScope } from '../scopes/scopes.js';

/**
 * Version of the token contract the server mints (docs/token-contract.md). Bumped on any breaking change. Version 2
 * (issue #16): the ES256 signature is low-S, and verifiers refuse a high-S one.
 */
export const TOKEN_CONTRACT_VERSION = 2;

/** The first contract version whose tokens must carry a low-S signature; older ones are accepted either way. */
export const LOW_S_TOKEN_CONTRACT_VERSION = 2;

/** Contract versions verifiers accept: the current one and the one before, so tokens minted before an upgrade live on. */
export const SUPPORTED_TOKEN_CONTRACT_VERSIONS: readonly number[] = Object.freeze([1, 2]);

/** ACS puts this constant in `scp` on every user token; real clients ignore it, we keep it for fidelity. */
export const ACS_SCP_CONSTANT = 1792;

/** Which access key authorised minting a token: key name and its version at the time. */
export interface AccessKeyRef {
  readonly name: 'primary' | 'secondary';
  readonly version: number;
}

/** The claims of a Tessera user access token (contract versions 1 and 2: the same claims). */
export interface TokenClaims {
  /** Issuer: the identity server's issuer identifier. */
  readonly iss: string;
  /** Audience: who the token is for. */
  readonly aud: string;
  /** The raw id `8:acs:<resourceId>_<userId>`. */
  readonly sub: string;
  /** Unique token id. */
  readonly jti: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** ACS: the raw id without `8:`. */
  readonly skypeid: string;
  readonly scp: number;
  /** ACS: `iat` as a string. */
  readonly csi: string;
  /** ACS: comma-joined scopes. */
  readonly acsScope: string;
  readonly resourceId: string;
  readonly resourceLocation: string;
  readonly rgn: string;
  /** Tessera token contract version. */
  readonly tsv: number;
  /** The identity's revocation epoch when the token was minted. */
  readonly rev: number;
  /** `primary.3`: the access key (and its version) that signed the minting request; absent for bearer-minted tokens. */
  readonly akv?: string;
}

/** Inputs of {@link buildClaims}. */
export interface BuildClaimsOptions {
  issuer: string;
  audience: string;
  rawId: string;
  scopes: readonly TokenScope[];
  /** Issue time in Unix milliseconds (from the caller's clock). */
  nowMs: number;
  /** Lifetime in minutes, already validated. */
  lifetimeMinutes: number;
  tokenId: string;
  resourceLocation: string;
  region: string;
  revocationEpoch: number;
  accessKey?: AccessKeyRef | undefined;
  /** Overrides the computed expiry (Unix seconds), e.g. a token exchange inheriting the external token's expiry. */
  expiresAt?: number | undefined;
}

/** `iat` in whole seconds of the issue time; `exp` the given expiry, else `iat` plus the lifetime. */
function claimTimes(options: BuildClaimsOptions): { iat: number; exp: number } {
  const iat = Math.floor(options.nowMs / 1000);
  return { iat, exp: options.expiresAt ?? iat + options.lifetimeMinutes * 60 };
}

/**
 * Builds a token's claims; `exp` is whole seconds, so the response's `expiresOn` is `exp * 1000`. The token
 * contract's reference: the issue path writes the same payload as JSON with {@link encodeClaimsJson}.
 */
export function buildClaims(options: BuildClaimsOptions): TokenClaims {
  const { resourceId } = parseRawId(options.rawId);
  const { iat, exp } = claimTimes(options);
  const claims: TokenClaims = {
    iss: options.issuer,
    aud: options.audience,
    sub: options.rawId,
    jti: options.tokenId,
    iat,
    nbf: iat,
    exp,
    skypeid: options.rawId.slice(2),
    scp: ACS_SCP_CONSTANT,
    csi: String(iat),
    acsScope: options.scopes.join(','),
    resourceId,
    resourceLocation: options.resourceLocation,
    rgn: options.region,
    tsv: TOKEN_CONTRACT_VERSION,
    rev: options.revocationEpoch,
  };
  return options.accessKey === undefined ? claims : { ...claims, akv: formatAccessKeyRef(options.accessKey) };
}

/** A token's payload as JSON, and its `exp`. */
export interface ClaimsJson {
  /** Exactly `JSON.stringify(buildClaims(options))`. */
  readonly json: string;
  readonly exp: number;
}

/**
 * `JSON.stringify(buildClaims(options))` without building the object: the issue path's payload. The strings the
 * server's configuration supplies (issuer, audience, location, region) are quoted once and remembered; every other
 * string is quoted directly unless it holds a character JSON escapes. A test holds the result byte-equal to
 * `JSON.stringify(buildClaims(options))` over random and hostile inputs.
 */
export function encodeClaimsJson(options: BuildClaimsOptions): ClaimsJson {
  const { resourceId } = parseRawId(options.rawId);
  const { iat, exp } = claimTimes(options);
  const rawId = quote(options.rawId);
  const json =
    `{"iss":${quoteRemembered(options.issuer)},"aud":${quoteRemembered(options.audience)},"sub":${rawId},` +
    `"jti":${quote(options.tokenId)},"iat":${num(iat)},"nbf":${num(iat)},"exp":${num(exp)},` +
    `"skypeid":${quote(options.rawId.slice(2))},"scp":${ACS_SCP_CONSTANT},"csi":${quote(String(iat))},` +
    `"acsScope":${quote(options.scopes.join(','))},"resourceId":${quote(resourceId)},` +
    `"resourceLocation":${quoteRemembered(options.resourceLocation)},"rgn":${quoteRemembered(options.region)},` +
    `"tsv":${TOKEN_CONTRACT_VERSION},"rev":${num(options.revocationEpoch)}` +
    (options.accessKey === undefined ? '}' : `,"akv":${quote(formatAccessKeyRef(options.accessKey))}}`);
  return { json, exp };
}

// What JSON.stringify escapes in a string: '"', '\\', control characters and lone surrogates (any surrogate sends the
// string to JSON.stringify, which pairs them correctly).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** JSON.stringify of a number: `null` for NaN and ±Infinity. */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

// The configuration's strings, quoted once each (bounded: cleared when full).
const QUOTED = new Map<string, string>();

function quoteRemembered(text: string): string {
  let quoted = QUOTED.get(text);
  if (quoted === undefined) {
    quoted = quote(text);
    if (QUOTED.size >= MAX_MEMOISED) QUOTED.clear();
    QUOTED.set(text, quoted);
  }
  return quoted;
}

/** `primary.3` */
export function formatAccessKeyRef(ref: AccessKeyRef): string {
  return `${ref.name}.${ref.version}`;
}

// Few distinct access-key references and scope lists ever occur, and the verifier judges them on every fresh token:
// both parses are memoised (bounded: cleared when full, so a stream of made-up values cannot grow them).
const MAX_MEMOISED = 64;
const KEY_REFS = new Map<string, AccessKeyRef | null>();
const SCOPE_LISTS = new Map<string, readonly TokenScope[] | null>();

function memoised<T>(memo: Map<string, T | null>, text: string, parse: (text: string) => T | undefined): T | undefined {
  let value = memo.get(text);
  if (value === undefined) {
    value = parse(text) ?? null;
    if (memo.size >= MAX_MEMOISED) memo.clear();
    memo.set(text, value);
  }
  return value ?? undefined;
}

/** Parses `primary.3`; undefined when malformed. The result is frozen and may be shared. */
export function parseAccessKeyRef(text: string): AccessKeyRef | undefined {
  return memoised(KEY_REFS, text, (t) => {
    const m = /^(primary|secondary)\.(\d{1,9})$/.exec(t);
    if (m === null) return undefined;
    return Object.freeze({ name: m[1] === 'primary' ? 'primary' : 'secondary', version: Number(m[2]) });
  });
}

/** `chat,voip` → its scopes, frozen and shared; undefined when any element is not a known scope. */
function parseScopeList(acsScope: string): readonly TokenScope[] | undefined {
  return memoised(SCOPE_LISTS, acsScope, (t) => {
    const parts = t.split(',');
    return parts.every(isTokenScope) ? Object.freeze(parts) : undefined;
  });
}

/** The scopes of a token, parsed from `acsScope` (unknown elements dropped). Frozen, shared between tokens. */
export function scopesOf(claims: Pick<TokenClaims, 'acsScope'>): readonly TokenScope[] {
  return parseScopeList(claims.acsScope) ?? Object.freeze(claims.acsScope.split(',').filter(isTokenScope));
}

function malformed(what: string): TesseraError {
  return new TesseraError('ERR_TOKEN_MALFORMED', `Token claims are malformed: ${what}.`);
}

function str(payload: Record<string, unknown>, key: string): string {
  const v = payload[key];
  if (typeof v !== 'string' || v.length === 0) throw malformed(`'${key}' must be a non-empty string`);
  return v;
}

function int(payload: Record<string, unknown>, key: string): number {
  const v = payload[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw malformed(`'${key}' must be an integer`);
  return v;
}

/**
 * Checks that a decoded payload has the shape of contract version 1 or 2 (the same claims; version 2 adds the low-S
 * rule, see `checkSignatureForm`) and returns it typed. Throws `ERR_TOKEN_UNSUPPORTED_VERSION` for another `tsv`,
 * `ERR_TOKEN_MALFORMED` for anything missing.
 */
export function parseClaims(payload: Record<string, unknown>): TokenClaims {
  const tsv = int(payload, 'tsv');
  if (!SUPPORTED_TOKEN_CONTRACT_VERSIONS.includes(tsv)) {
    throw new TesseraError('ERR_TOKEN_UNSUPPORTED_VERSION');
  }
  const sub = str(payload, 'sub');
  if (!isRawId(sub)) throw malformed("'sub' is not a communication user id");
  const acsScope = str(payload, 'acsScope');
  if (parseScopeList(acsScope) === undefined) throw malformed("'acsScope' holds an unknown scope");
  const akv = payload.akv;
  if (akv !== undefined && (typeof akv !== 'string' || parseAccessKeyRef(akv) === undefined)) {
    throw malformed("'akv' is not a key reference");
  }
  // Built in place (no spread copy): this runs once per fresh token in the verifier.
  const claims: { -readonly [K in keyof TokenClaims]: TokenClaims[K] } = {
    iss: str(payload, 'iss'),
    aud: str(payload, 'aud'),
    sub,
    jti: str(payload, 'jti'),
    iat: int(payload, 'iat'),
    nbf: int(payload, 'nbf'),
    exp: int(payload, 'exp'),
    skypeid: str(payload, 'skypeid'),
    scp: int(payload, 'scp'),
    csi: str(payload, 'csi'),
    acsScope,
    resourceId: str(payload, 'resourceId'),
    resourceLocation: str(payload, 'resourceLocation'),
    rgn: str(payload, 'rgn'),
    tsv,
    rev: int(payload, 'rev'),
  };
  if (typeof akv === 'string') claims.akv = akv;
  return claims;
}
