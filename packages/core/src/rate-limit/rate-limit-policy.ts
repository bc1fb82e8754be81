import { TesseraError } from '../errors.js';

/** Operations that carry a rate limit, as ACS limits them (service-limits, per 30 s). */
export const RATE_LIMITED_OPERATIONS = ['create', 'issue', 'revoke', 'delete', 'exchange'] as const;

/** One rate-limited operation. */
export type RateLimitedOperation = (typeof RATE_LIMITED_OPERATIONS)[number];

/** `limit` requests per `windowSeconds`, per credential. */
export interface RateLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** Limits per operation; an absent operation is unlimited. */
export type RateLimitPolicy = Readonly<Partial<Record<RateLimitedOperation, RateLimit>>>;

/** ACS's published Identity limits: create and issue 1000/30 s, revoke, delete and exchange 500/30 s. */
export const ACS_RATE_LIMITS: RateLimitPolicy = {
  create: { limit: 1000, windowSeconds: 30 },
  issue: { limit: 1000, windowSeconds: 30 },
  revoke: { limit: 500, windowSeconds: 30 },
  delete: { limit: 500, windowSeconds: 30 },
  exchange: { limit: 500, windowSeconds: 30 },
};

/**
 * Parses `off`, `acs`, or a list like `create=1000/30,issue=5000/30s,revoke=off` (applied over the ACS defaults).
 * Throws `ERR_CONFIG_INVALID` naming the bad entry.
 */
export function parseRateLimitPolicy(text: string): RateLimitPolicy {
  const trimmed = text.trim();
  if (trimmed === 'off') return {};
  if (trimmed === 'acs' || trimmed === '') return ACS_RATE_LIMITS;
  const out: Partial<Record<RateLimitedOperation, RateLimit>> = { ...ACS_RATE_LIMITS };
  for (const entry of trimmed.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(?:(off)|(\d{1,9})\s*\/\s*(\d{1,6})\s*s?)\s*$/.exec(entry);
    const op = m?.[1];
    if (m === null || op === undefined || !(RATE_LIMITED_OPERATIONS as readonly string[]).includes(op)) {
      throw new TesseraError(
        'ERR_CONFIG_INVALID',
        `Invalid --rate-limit entry '${entry.slice(0, 60)}': expected <operation>=<limit>/<seconds> or <operation>=off, operations ${RATE_LIMITED_OPERATIONS.join(', ')}.`,
        { target: 'rate-limit' },
      );
    }
    const key = op as RateLimitedOperation;
    if (m[2] === 'off') delete out[key];
    else {
      const limit = Number(m[3]);
      const windowSeconds = Number(m[4]);
      if (limit < 1 || windowSeconds < 1) {
        throw new TesseraError(
          'ERR_CONFIG_INVALID',
          `Invalid --rate-limit entry '${entry}': limit and window must be ≥ 1.`,
          {
            target: 'rate-limit',
          },
        );
      }
      out[key] = { limit, windowSeconds };
    }
  }
  return out;
}
