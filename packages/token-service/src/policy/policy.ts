import { readFileSync } from 'node:fs';
import {
  MAX_TOKEN_MINUTES,
  MIN_TOKEN_MINUTES,
  TOKEN_SCOPES,
  TesseraError,
  type TokenScope,
  isTokenScope,
} from '@tessera/core';

/** Which communication identity a rule's users get: one per app user for good, or a fresh one per session. */
export type IdentityMode = 'stable' | 'ephemeral';

/** When a rule applies. Conditions are AND-ed; a list (`roles`, a claim's array) matches if any value matches. */
export interface PolicyMatch {
  /** Matches anonymous guests (and only them). */
  readonly anonymous?: true;
  /** Matches any authenticated user. */
  readonly authenticated?: true;
  /** Matches users holding at least one of these roles (read from `rolesClaim`). */
  readonly roles?: readonly string[];
  /** Matches users whose claims equal these values (a list = any of them). */
  readonly claims?: Readonly<Record<string, string | number | boolean | readonly (string | number | boolean)[]>>;
  /** Matches users from this issuer only. */
  readonly issuer?: string;
}

/** One rule: who it matches and the most it grants. */
export interface PolicyRule {
  readonly name: string;
  readonly match: PolicyMatch;
  /** The scopes this rule allows; a request for anything else is refused (403), never widened. */
  readonly scopes: readonly TokenScope[];
  /** Scopes issued when the request names none (default: `scopes`). */
  readonly defaultScopes: readonly TokenScope[];
  /** Longest token lifetime, 60..1440 minutes. */
  readonly maxLifetimeMinutes: number;
  /** Lifetime when the request names none (default: `maxLifetimeMinutes`). */
  readonly defaultLifetimeMinutes: number;
  /** `stable` (default for users) or `ephemeral` (always for guests). */
  readonly identity: IdentityMode;
  /** Ephemeral sessions stop being refreshable this long after they start (default 1440 minutes). */
  readonly sessionMaxMinutes: number;
}

/** A validated least-privilege policy. */
export interface Policy {
  /** Where roles are read from: a claim name or a dotted path (`realm_access.roles`). Default `roles`. */
  readonly rolesClaim: string;
  /** First matching rule wins. */
  readonly rules: readonly PolicyRule[];
}

function invalid(path: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', `Invalid policy: ${path}: ${message}`, { target: 'policy' });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(`${path}.${key}`, `unknown setting (allowed: ${allowed.join(', ')})`);
  }
}

function scopeList(value: unknown, path: string): TokenScope[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(path, 'must be a non-empty list of scopes');
  return value.map((s, i) => {
    if (!isTokenScope(s)) {
      throw invalid(`${path}[${i}]`, `${JSON.stringify(s)} is not a scope (${TOKEN_SCOPES.join(', ')})`);
    }
    return s;
  });
}

function minutes(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(path, `must be a whole number of minutes in [${min}, ${max}]`);
  }
  return value;
}

const CLAIM_VALUE = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function parseMatch(value: unknown, path: string): PolicyMatch {
  if (!isRecord(value)) throw invalid(path, 'must be an object');
  onlyKeys(value, path, ['anonymous', 'authenticated', 'roles', 'claims', 'issuer']);
  const out: { -readonly [K in keyof PolicyMatch]: PolicyMatch[K] } = {};
  if (value.anonymous !== undefined) {
    if (value.anonymous !== true) throw invalid(`${path}.anonymous`, 'must be true when given');
    out.anonymous = true;
  }
  if (value.authenticated !== undefined) {
    if (value.authenticated !== true) throw invalid(`${path}.authenticated`, 'must be true when given');
    out.authenticated = true;
  }
  if (value.roles !== undefined) {
    if (!Array.isArray(value.roles) || value.roles.length === 0 || !value.roles.every((r) => typeof r === 'string')) {
      throw invalid(`${path}.roles`, 'must be a non-empty list of role names');
    }
    out.roles = value.roles as string[];
  }
  if (value.claims !== undefined) {
    if (!isRecord(value.claims) || Object.keys(value.claims).length === 0) {
      throw invalid(`${path}.claims`, 'must be an object of claim: value');
    }
    for (const [claim, v] of Object.entries(value.claims)) {
      const ok = CLAIM_VALUE(v) || (Array.isArray(v) && v.length > 0 && v.every(CLAIM_VALUE));
      if (!ok) throw invalid(`${path}.claims.${claim}`, 'must be a string, number, boolean or a list of them');
    }
    out.claims = value.claims as NonNullable<PolicyMatch['claims']>;
  }
  if (value.issuer !== undefined) {
    if (typeof value.issuer !== 'string' || value.issuer === '') throw invalid(`${path}.issuer`, 'must be a string');
    out.issuer = value.issuer;
  }
  const userConditions = out.authenticated ?? out.roles ?? out.claims ?? out.issuer;
  if (out.anonymous === undefined && userConditions === undefined) {
    throw invalid(path, 'must say whom it matches: anonymous, authenticated, roles, claims or issuer');
  }
  if (out.anonymous !== undefined && userConditions !== undefined) {
    throw invalid(path, 'anonymous cannot be combined with user conditions (guests have no roles or claims)');
  }
  return out;
}

function parseRule(value: unknown, path: string): PolicyRule {
  if (!isRecord(value)) throw invalid(path, 'must be an object');
  onlyKeys(value, path, [
    'name',
    'match',
    'scopes',
    'defaultScopes',
    'maxLifetimeMinutes',
    'defaultLifetimeMinutes',
    'identity',
    'sessionMaxMinutes',
  ]);
  if (typeof value.name !== 'string' || !/^[\w.-]{1,64}$/.test(value.name)) {
    throw invalid(`${path}.name`, 'must be 1-64 letters, digits, dots, dashes or underscores');
  }
  const match = parseMatch(value.match, `${path}.match`);
  const scopes = scopeList(value.scopes, `${path}.scopes`);
  const defaultScopes =
    value.defaultScopes === undefined ? scopes : scopeList(value.defaultScopes, `${path}.defaultScopes`);
  for (const [i, s] of defaultScopes.entries()) {
    if (!scopes.includes(s)) throw invalid(`${path}.defaultScopes[${i}]`, `'${s}' is not in this rule's scopes`);
  }
  const maxLifetimeMinutes = minutes(
    value.maxLifetimeMinutes,
    `${path}.maxLifetimeMinutes`,
    MIN_TOKEN_MINUTES,
    MAX_TOKEN_MINUTES,
  );
  const defaultLifetimeMinutes =
    value.defaultLifetimeMinutes === undefined
      ? maxLifetimeMinutes
      : minutes(value.defaultLifetimeMinutes, `${path}.defaultLifetimeMinutes`, MIN_TOKEN_MINUTES, maxLifetimeMinutes);
  const identity = value.identity ?? (match.anonymous ? 'ephemeral' : 'stable');
  if (identity !== 'stable' && identity !== 'ephemeral')
    throw invalid(`${path}.identity`, "must be 'stable' or 'ephemeral'");
  if (match.anonymous && identity !== 'ephemeral') {
    throw invalid(`${path}.identity`, "guests have nothing to map a stable identity to: use 'ephemeral'");
  }
  const sessionMaxMinutes =
    value.sessionMaxMinutes === undefined
      ? MAX_TOKEN_MINUTES
      : minutes(value.sessionMaxMinutes, `${path}.sessionMaxMinutes`, MIN_TOKEN_MINUTES, 30 * MAX_TOKEN_MINUTES);
  return {
    name: value.name,
    match,
    scopes,
    defaultScopes,
    maxLifetimeMinutes,
    defaultLifetimeMinutes,
    identity,
    sessionMaxMinutes,
  };
}

/** Validates a policy object (as parsed from JSON). Throws `ERR_CONFIG_INVALID` naming the bad path. */
export function parsePolicy(value: unknown): Policy {
  if (!isRecord(value)) throw invalid('policy', 'must be a JSON object with "rules"');
  onlyKeys(value, 'policy', ['$schema', 'version', 'rolesClaim', 'rules']);
  if (value.version !== undefined && value.version !== 1) throw invalid('policy.version', 'only version 1 exists');
  const rolesClaim = value.rolesClaim ?? 'roles';
  if (typeof rolesClaim !== 'string' || rolesClaim === '') throw invalid('policy.rolesClaim', 'must be a claim name');
  if (!Array.isArray(value.rules) || value.rules.length === 0)
    throw invalid('policy.rules', 'must be a non-empty list');
  const rules = value.rules.map((r, i) => parseRule(r, `policy.rules[${i}]`));
  const names = new Set<string>();
  for (const [i, r] of rules.entries()) {
    if (names.has(r.name)) throw invalid(`policy.rules[${i}].name`, `'${r.name}' is used twice`);
    names.add(r.name);
  }
  return { rolesClaim, rules };
}

/** Reads and validates a policy file (JSON). */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --policy: cannot read ${path}.`, { target: 'policy' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --policy: ${path} is not valid JSON.`, { target: 'policy' });
  }
  return parsePolicy(value);
}

/** True when some rule matches anonymous guests. */
export function policyAllowsGuests(policy: Policy): boolean {
  return policy.rules.some((r) => r.match.anonymous === true);
}
