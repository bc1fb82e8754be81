import { readFileSync } from 'node:fs';
import { isTokenScope, TesseraError, type TokenScope } from '@tessera/core';
import { isAllowedIssuerUrl, isJwsAlgorithm, JWS_ALGORITHMS, type JwsAlgorithm, type OidcIssuer } from '@tessera/oidc';

/**
 * Audiences every trusted issuer's tokens may carry: Entra clients ask for
 * `https://communication.azure.com//.default`, which yields one of these as `aud`.
 */
export const DEFAULT_BEARER_AUDIENCES: readonly string[] = [
  'https://communication.azure.com',
  'https://communication.azure.com/',
];

/** The format user and app ids of an issuer have, checked on the token exchange. */
export type ExternalIdFormat = 'uuid' | 'any';

/** One entry of the trusted-issuers file (`--trusted-issuers <file.json>`), as written by an operator. */
export interface TrustedIssuerConfig {
  /** The exact `iss` of the tokens, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`. */
  readonly issuer: string;
  /** OpenID discovery document; default `<issuer>/.well-known/openid-configuration`. */
  readonly discoveryUrl?: string | undefined;
  /** JWKS URL; when given, discovery is skipped (e.g. Kubernetes `…/openid/v1/jwks`). */
  readonly jwksUri?: string | undefined;
  /** Audiences accepted besides `https://communication.azure.com` (with or without trailing slash). */
  readonly audiences?: readonly string[] | undefined;
  /** Accepted algorithms; default all of {@link JWS_ALGORITHMS}. */
  readonly algorithms?: readonly string[] | undefined;
  /** Leeway for `exp` and `nbf`, seconds (default 60). */
  readonly clockToleranceSeconds?: number | undefined;
  /** Whether users of this issuer may exchange their tokens at `/teamsUser/:exchangeAccessToken`. */
  readonly exchange?:
    | boolean
    | {
        readonly enabled?: boolean | undefined;
        /** Scopes of exchanged tokens; default `["chat","voip"]`. */
        readonly scopes?: readonly string[] | undefined;
        /** Format of `appId` / `userId` (default `uuid`, as Entra ids are). */
        readonly idFormat?: string | undefined;
      }
    | undefined;
}

/** How an issuer's users exchange tokens. */
export interface ExchangePolicy {
  readonly scopes: readonly TokenScope[];
  readonly idFormat: ExternalIdFormat;
}

/** A validated trusted issuer: what `@tessera/oidc` verifies its tokens with, plus its exchange policy. */
export interface TrustedIssuer extends OidcIssuer {
  readonly issuer: string;
  /** Where the JWKS URL is discovered; undefined when `jwksUri` is fixed. */
  readonly discoveryUrl: string | undefined;
  readonly jwksUri: string | undefined;
  readonly audiences: ReadonlySet<string>;
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  readonly clockToleranceSeconds: number;
  /** Undefined when the issuer's tokens cannot be exchanged. */
  readonly exchange: ExchangePolicy | undefined;
}

function invalid(setting: string, where: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', `Invalid --${setting}: ${where} ${message}`, { target: setting });
}

/** https everywhere; plain http only on a loopback host (a provider on the developer's machine). */
function checkUrl(setting: string, where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || !URL.canParse(value)) {
    throw invalid(setting, where, 'must be a URL.');
  }
  if (!isAllowedIssuerUrl(value)) {
    throw invalid(setting, where, 'must be an https:// URL (http:// only on localhost / 127.0.0.1).');
  }
  return value;
}

function stringList(setting: string, where: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw invalid(setting, where, 'must be an array of non-empty strings.');
  }
  return value as string[];
}

const ISSUER_KEYS = new Set([
  'issuer',
  'discoveryUrl',
  'jwksUri',
  'audiences',
  'algorithms',
  'clockToleranceSeconds',
  'exchange',
]);

function parseExchange(setting: string, where: string, value: unknown): ExchangePolicy | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { scopes: ['chat', 'voip'], idFormat: 'uuid' };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(setting, where, 'must be true, false or an object { enabled, scopes, idFormat }.');
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!['enabled', 'scopes', 'idFormat'].includes(key))
      throw invalid(setting, `${where}.${key}`, 'is not a setting.');
  }
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean') {
    throw invalid(setting, `${where}.enabled`, 'must be true or false.');
  }
  if (v.enabled === false) return undefined;
  const scopes = v.scopes === undefined ? ['chat', 'voip'] : stringList(setting, `${where}.scopes`, v.scopes);
  if (scopes.length === 0 || !scopes.every(isTokenScope)) {
    throw invalid(
      setting,
      `${where}.scopes`,
      'must list scopes among chat, voip, chat.join, chat.join.limited, voip.join.',
    );
  }
  const idFormat = v.idFormat ?? 'uuid';
  if (idFormat !== 'uuid' && idFormat !== 'any')
    throw invalid(setting, `${where}.idFormat`, "must be 'uuid' or 'any'.");
  return { scopes: scopes as TokenScope[], idFormat };
}

function parseIssuer(setting: string, where: string, value: unknown): TrustedIssuer {
  if (typeof value === 'string') return parseIssuer(setting, where, { issuer: value });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(setting, where, 'must be an issuer URL or an object with an "issuer".');
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!ISSUER_KEYS.has(key)) throw invalid(setting, `${where}.${key}`, 'is not a setting.');
  }
  const issuer = checkUrl(setting, `${where}.issuer`, v.issuer);
  const jwksUri = v.jwksUri === undefined ? undefined : checkUrl(setting, `${where}.jwksUri`, v.jwksUri);
  const discoveryUrl =
    jwksUri !== undefined && v.discoveryUrl === undefined
      ? undefined
      : checkUrl(
          setting,
          `${where}.discoveryUrl`,
          v.discoveryUrl ?? `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
        );
  const algorithms =
    v.algorithms === undefined ? [...JWS_ALGORITHMS] : stringList(setting, `${where}.algorithms`, v.algorithms);
  for (const alg of algorithms) {
    if (!isJwsAlgorithm(alg)) {
      throw invalid(setting, `${where}.algorithms`, `holds '${alg}'; accepted: ${JWS_ALGORITHMS.join(', ')}.`);
    }
  }
  if (algorithms.length === 0) throw invalid(setting, `${where}.algorithms`, 'must not be empty.');
  const tolerance = v.clockToleranceSeconds ?? 60;
  if (typeof tolerance !== 'number' || !Number.isInteger(tolerance) || tolerance < 0 || tolerance > 600) {
    throw invalid(setting, `${where}.clockToleranceSeconds`, 'must be an integer in [0, 600].');
  }
  return {
    issuer,
    discoveryUrl,
    jwksUri,
    audiences: new Set([...DEFAULT_BEARER_AUDIENCES, ...stringList(setting, `${where}.audiences`, v.audiences)]),
    algorithms: new Set(algorithms as JwsAlgorithm[]),
    clockToleranceSeconds: tolerance,
    exchange: parseExchange(setting, `${where}.exchange`, v.exchange),
  };
}

/**
 * Validates trusted issuers: a list (or `{ "issuers": [...] }`) of issuer URLs or {@link TrustedIssuerConfig}
 * objects. Throws `ERR_CONFIG_INVALID` naming `setting` and the offending entry.
 */
export function parseTrustedIssuers(value: unknown, setting = 'trusted-issuers'): TrustedIssuer[] {
  const list =
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'issuers' in value
      ? (value as { issuers: unknown }).issuers
      : value;
  if (!Array.isArray(list))
    throw invalid(setting, 'the value', 'must be a JSON array of issuers or { "issuers": [...] }.');
  const issuers = list.map((entry, i) => parseIssuer(setting, `issuers[${i}]`, entry));
  const seen = new Set<string>();
  for (const issuer of issuers) {
    if (seen.has(issuer.issuer)) throw invalid(setting, `issuer '${issuer.issuer}'`, 'is listed twice.');
    seen.add(issuer.issuer);
  }
  return issuers;
}

/** Reads and validates a trusted-issuers JSON file. */
export function loadTrustedIssuersFile(path: string, setting = 'trusted-issuers'): TrustedIssuer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw invalid(setting, `the file '${path}'`, 'cannot be read.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(setting, `the file '${path}'`, 'is not valid JSON.');
  }
  return parseTrustedIssuers(json, setting);
}
