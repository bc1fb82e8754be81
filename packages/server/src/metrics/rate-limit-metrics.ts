import { boundedLabel, type CounterCell, counterFamily, OVERFLOW_LABEL } from '@tessera/metrics';
import type { RateLimitedOperation, RateLimitPolicy } from '@tessera/core';
import { Gauge, type Registry } from 'prom-client';
import type { RateLimiter } from '../limits/rate-limiter.js';

/** Bearer principals that get their own `credential` label value; later ones share `other` (cardinality). */
export const MAX_BEARER_CREDENTIAL_LABELS = 20;

/** One credential's counts for one operation, in the current and the previous window of the limit's length. */
interface Slot {
  readonly credential: string;
  readonly allowed: CounterCell;
  readonly limited: CounterCell;
  windowStart: number;
  /** `windowStart` plus the window's length: until then, no roll is needed. */
  windowEnd: number;
  current: number;
  previous: number;
}

/**
 * The `credential` label of a rate-limited caller (`key:primary` → `primary`; a bearer principal
 * `bearer:<issuer>#<subject>` as it is, for the first {@link MAX_BEARER_CREDENTIAL_LABELS}, then `other`). Never an
 * identity id: rate limits are kept per calling credential, not per identity.
 */
export function credentialLabeller(): (credential: string) => string {
  const bearer = boundedLabel(MAX_BEARER_CREDENTIAL_LABELS);
  return (credential) => (credential.startsWith('key:') ? credential.slice(4) : bearer(credential));
}

/**
 * Wraps a rate limiter to count its decisions and to estimate each quota's utilisation: the requests a credential
 * made for an operation over the limit's window (sliding: the current window's count plus the previous one's,
 * weighted by how much of it still overlaps), as a fraction of the limit. Counted are the requests asked, allowed
 * or refused, so the gauge passes 1 when a caller is being refused. Per request: two map reads, one clock read
 * and one counter increment.
 */
export function instrumentRateLimiter(
  limiter: RateLimiter,
  options: { readonly registry: Registry; readonly policy: RateLimitPolicy; readonly clock: () => number },
): RateLimiter {
  const { policy, clock } = options;
  const labelOf = credentialLabeller();
  const decisions = counterFamily(options.registry, {
    name: 'tessera_rate_limit_decisions_total',
    help: 'Rate-limit decisions, by operation, credential (access key name or bounded bearer principal) and decision.',
    labelNames: ['operation', 'credential', 'decision'],
  });
  const slots = new Map<RateLimitedOperation, Map<string, Slot>>();
  const shared = new Map<RateLimitedOperation, Map<string, Slot>>(); // by label: every raw credential labelled `other`

  const roll = (slot: Slot, now: number, lengthMs: number) => {
    if (now < slot.windowEnd && now >= slot.windowStart) return;
    const start = Math.floor(now / lengthMs) * lengthMs;
    slot.previous = start - slot.windowStart === lengthMs ? slot.current : 0;
    slot.current = 0;
    slot.windowStart = start;
    slot.windowEnd = start + lengthMs;
  };

  const slotOf = (operation: RateLimitedOperation, credential: string): Slot => {
    let byCredential = slots.get(operation);
    if (byCredential === undefined) {
      byCredential = new Map();
      slots.set(operation, byCredential);
    }
    let slot = byCredential.get(credential);
    if (slot !== undefined) return slot;
    const label = labelOf(credential);
    let byLabel = shared.get(operation);
    if (byLabel === undefined) {
      byLabel = new Map();
      shared.set(operation, byLabel);
    }
    slot = byLabel.get(label);
    if (slot === undefined) {
      slot = {
        credential: label,
        allowed: decisions.cell(operation, label, 'allowed'),
        limited: decisions.cell(operation, label, 'limited'),
        windowStart: 0,
        windowEnd: 0,
        current: 0,
        previous: 0,
      };
      byLabel.set(label, slot);
    }
    // Only labelled credentials are kept by raw name; the overflow is looked up by label each time, so the map
    // stays as small as the label set.
    if (label !== OVERFLOW_LABEL) byCredential.set(credential, slot);
    return slot;
  };

  new Gauge({
    name: 'tessera_rate_limit_utilisation_ratio',
    help: "Requests asked over the limit's window as a fraction of the limit, by credential and operation (> 1: refusing).",
    labelNames: ['credential', 'operation'],
    registers: [options.registry],
    collect() {
      this.reset();
      const now = clock();
      for (const [operation, byLabel] of shared) {
        const rule = policy[operation];
        if (rule === undefined) continue;
        const lengthMs = rule.windowSeconds * 1000;
        for (const slot of byLabel.values()) {
          roll(slot, now, lengthMs);
          const overlap = 1 - (now - slot.windowStart) / lengthMs;
          this.set({ credential: slot.credential, operation }, (slot.current + slot.previous * overlap) / rule.limit);
        }
      }
    },
  });
  new Gauge({
    name: 'tessera_rate_limit_limit',
    help: 'Requests allowed per window per credential, by operation (absent: unlimited).',
    labelNames: ['operation', 'window_seconds'],
    registers: [options.registry],
    collect() {
      this.reset();
      for (const [operation, rule] of Object.entries(policy)) {
        if (rule !== undefined) this.set({ operation, window_seconds: String(rule.windowSeconds) }, rule.limit);
      }
    },
  });

  // The last caller's slot: a busy credential asks again and again, and then no map is read.
  let lastCredential = '';
  let lastOperation: RateLimitedOperation | undefined;
  let lastSlot: Slot | undefined;
  return {
    take(credential, operation) {
      const rule = policy[operation];
      if (rule === undefined) return limiter.take(credential, operation);
      let slot: Slot;
      if (lastSlot !== undefined && operation === lastOperation && credential === lastCredential) slot = lastSlot;
      else {
        slot = slotOf(operation, credential);
        lastSlot = slot;
        lastOperation = operation;
        lastCredential = credential;
      }
      roll(slot, clock(), rule.windowSeconds * 1000);
      slot.current++;
      try {
        limiter.take(credential, operation);
      } catch (error) {
        slot.limited.inc();
        throw error;
      }
      slot.allowed.inc();
    },
  };
}
