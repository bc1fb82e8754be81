import { MAX_TOKEN_MINUTES, MIN_TOKEN_MINUTES, TOKEN_SCOPES, type TokenScope, isTokenScope } from '@tessera/core';
import type { AppPrincipal } from '../auth/app-principal.js';
import { TokenServiceError } from '../errors/token-service-error.js';
import type { Policy, PolicyMatch, PolicyRule } from './policy.js';

/** What the caller asked for; absent fields take the rule's defaults. */
export interface TokenRequest {
  readonly scopes?: readonly TokenScope[] | undefined;
  readonly expiresInMinutes?: number | undefined;
}

/** What the policy grants one request: never more than the matching rule allows. */
export interface Grant {
  readonly rule: PolicyRule;
  readonly scopes: readonly TokenScope[];
  readonly lifetimeMinutes: number;
}

/** Reads roles from a claim or dotted path: a list of strings, or one space/comma-separated string. */
export function readRoles(claims: Readonly<Record<string, unknown>>, path: string): string[] {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    value =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)[part]
        : undefined;
  }
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function claimMatches(actual: unknown, expected: string | number | boolean | readonly (string | number | boolean)[]) {
  const wanted = Array.isArray(expected) ? expected : [expected];
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((v) => wanted.includes(v as string | number | boolean));
}

function matches(match: PolicyMatch, principal: AppPrincipal): boolean {
  if (principal.kind === 'guest') return match.anonymous === true;
  if (match.anonymous) return false;
  if (match.issuer !== undefined && match.issuer !== principal.issuer) return false;
  if (match.roles !== undefined && !match.roles.some((r) => principal.roles.includes(r))) return false;
  if (match.claims !== undefined) {
    for (const [claim, expected] of Object.entries(match.claims)) {
      if (!claimMatches(principal.claims[claim], expected)) return false;
    }
  }
  return true;
}

/** The first rule that matches `principal`, if any. */
export function matchRule(policy: Policy, principal: AppPrincipal): PolicyRule | undefined {
  return policy.rules.find((r) => matches(r.match, principal));
}

/** Parses requested scopes from a query (`chat,voip` or `chat voip`) or a JSON list. 400 for unknown scopes. */
export function parseRequestedScopes(value: unknown): TokenScope[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
  if (!Array.isArray(list) || list.length === 0 || list.length > 10) {
    throw new TokenServiceError('ERR_VALIDATION', 'scopes must be a list of 1 to 10 scopes.', { target: 'scopes' });
  }
  const out: TokenScope[] = [];
  for (const s of list) {
    if (!isTokenScope(s)) {
      const shown = typeof s === 'string' ? `'${s.slice(0, 40)}'` : 'a non-string value';
      throw new TokenServiceError('ERR_VALIDATION', `${shown} is not a scope; scopes are ${TOKEN_SCOPES.join(', ')}.`, {
        target: 'scopes',
      });
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Parses a requested lifetime (query string or JSON number). 400 outside 60..1440. */
export function parseRequestedLifetime(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_TOKEN_MINUTES || n > MAX_TOKEN_MINUTES) {
    throw new TokenServiceError(
      'ERR_VALIDATION',
      `expiresInMinutes must be a whole number in [${MIN_TOKEN_MINUTES}, ${MAX_TOKEN_MINUTES}].`,
      { target: 'expiresInMinutes' },
    );
  }
  return n;
}

/** Checks a request against an already-chosen rule (for a session, the rule it started under). */
export function grantFromRule(rule: PolicyRule, request: TokenRequest, who: string): Grant {
  const scopes = request.scopes ?? rule.defaultScopes;
  const denied = scopes.filter((s) => !rule.scopes.includes(s));
  if (denied.length > 0) {
    throw new TokenServiceError(
      'ERR_POLICY_DENIED',
      `The policy rule '${rule.name}' does not grant ${denied.map((s) => `'${s}'`).join(', ')} to ${who}; it allows ${rule.scopes.join(', ')}.`,
      { target: 'scopes' },
    );
  }
  const lifetimeMinutes = request.expiresInMinutes ?? rule.defaultLifetimeMinutes;
  if (lifetimeMinutes > rule.maxLifetimeMinutes) {
    throw new TokenServiceError(
      'ERR_POLICY_DENIED',
      `The policy rule '${rule.name}' allows tokens of at most ${rule.maxLifetimeMinutes} minutes for ${who}; ${lifetimeMinutes} were asked for.`,
      { target: 'expiresInMinutes' },
    );
  }
  return { rule, scopes, lifetimeMinutes };
}

/**
 * What the policy grants `principal` for `request`: the first matching rule's defaults, or exactly what was
 * asked if the rule allows all of it. Asking for more is `ERR_POLICY_DENIED` (403); nothing is ever widened.
 */
export function resolveGrant(policy: Policy, principal: AppPrincipal, request: TokenRequest): Grant {
  const rule = matchRule(policy, principal);
  const who = principal.kind === 'guest' ? 'guests' : 'this user';
  if (rule === undefined) {
    throw new TokenServiceError('ERR_POLICY_NO_MATCH', `No policy rule matches ${who}, so no token can be issued.`);
  }
  return grantFromRule(rule, request, who);
}
