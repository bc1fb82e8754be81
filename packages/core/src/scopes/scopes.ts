import { TesseraError } from '../errors.js';

/**
 * The user access token scopes: the five of the ACS identity model, then `presence`, a Tessera extension that no
 * ACS api-version accepts (minted on the Tessera api-version only, docs/presence.md).
 */
export const TOKEN_SCOPES = ['chat', 'chat.join', 'chat.join.limited', 'voip', 'voip.join', 'presence'] as const;

/** One user access token scope. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const KNOWN = new Set<string>(TOKEN_SCOPES);

/** True when `value` is one of {@link TOKEN_SCOPES}. */
export function isTokenScope(value: unknown): value is TokenScope {
  return typeof value === 'string' && KNOWN.has(value);
}

/** Options for {@link parseScopes}. */
export interface ParseScopesOptions {
  /** Scopes the api-version in use accepts. */
  allowed: readonly TokenScope[];
  /** The request field, for `target` (`scopes` or `createTokenWithScopes`). */
  field: 'scopes' | 'createTokenWithScopes';
}

/**
 * Validates a requested scope list as the service does and returns it de-duplicated, in request order.
 * `null`/missing → "Scopes: The Scopes field is required."; `[]` → "Invalid scopes - Scopes field is required.";
 * anything not a known scope of this api-version → `ValidationError` naming the value.
 */
export function parseScopes(value: unknown, options: ParseScopesOptions): TokenScope[] {
  const pascal = options.field === 'scopes' ? 'Scopes' : 'CreateTokenWithScopes';
  if (value === undefined || value === null) {
    throw new TesseraError('ERR_VALIDATION', `${pascal}: The ${pascal} field is required.`, { target: pascal });
  }
  if (!Array.isArray(value)) {
    throw new TesseraError('ERR_VALIDATION', `${pascal}: The ${pascal} field must be an array of scopes.`, {
      target: options.field,
    });
  }
  if (value.length === 0) {
    throw new TesseraError('ERR_VALIDATION', `Invalid scopes - ${pascal} field is required.`, {
      target: options.field,
    });
  }
  const out: TokenScope[] = [];
  for (const item of value) {
    if (!isTokenScope(item) || !options.allowed.includes(item)) {
      const shown = typeof item === 'string' ? `'${item.slice(0, 64)}'` : 'a non-string value';
      throw new TesseraError(
        'ERR_VALIDATION',
        `Invalid scopes - ${shown} is not a valid scope. Valid scopes are: ${options.allowed.join(', ')}.`,
        { target: options.field },
      );
    }
    if (!out.includes(item)) out.push(item);
  }
  return out;
}
