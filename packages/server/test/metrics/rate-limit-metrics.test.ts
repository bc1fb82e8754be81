// Rate-limit metrics: utilisation over the limit's window (sliding across the window boundary), decisions, and the
// credential label's bound for bearer principals.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../src/limits/rate-limiter.js';
import { instrumentRateLimiter, MAX_BEARER_CREDENTIAL_LABELS } from '../../src/metrics/rate-limit-metrics.js';
import { parseExposition, sampleValue } from './exposition.js';

const policy = { issue: { limit: 10, windowSeconds: 30 } };

function setup(start: number) {
  let now = start;
  const registry = new Registry();
  const clock = () => now;
  const limiter = instrumentRateLimiter(createMemoryRateLimiter(policy, clock), { registry, policy, clock });
  return { registry, limiter, advance: (ms: number) => (now += ms) };
}

describe('quota utilisation', () => {
  it('is the requests over the window as a fraction of the limit, sliding into the next window', async () => {
    const { registry, limiter, advance } = setup(1_000_000 * 30_000); // the start of a window
    for (let i = 0; i < 6; i++) limiter.take('key:primary', 'issue');
    const at = async () =>
      sampleValue(await registry.metrics(), 'tessera_rate_limit_utilisation_ratio', {
        credential: 'primary',
        operation: 'issue',
      });
    expect(await at()).toBe(0.6);
    advance(30_000 + 7_500); // a quarter into the next window: 3/4 of the previous one still overlaps
    expect(await at()).toBeCloseTo(0.45, 10);
    advance(30_000); // two windows on: nothing left
    expect(await at()).toBe(0);
  });

  it('counts refused requests too, so it passes 1 while the credential is limited', async () => {
    const { registry, limiter } = setup(1_000_000 * 30_000);
    let refused = 0;
    for (let i = 0; i < 13; i++) {
      try {
        limiter.take('key:secondary', 'issue');
      } catch {
        refused++;
      }
    }
    const text = await registry.metrics();
    expect(refused).toBe(3);
    expect(sampleValue(text, 'tessera_rate_limit_utilisation_ratio', { credential: 'secondary' })).toBe(1.3);
    expect(
      sampleValue(text, 'tessera_rate_limit_decisions_total', { credential: 'secondary', decision: 'limited' }),
    ).toBe(3);
    expect(
      sampleValue(text, 'tessera_rate_limit_decisions_total', { credential: 'secondary', decision: 'allowed' }),
    ).toBe(10);
  });

  it(`labels at most ${MAX_BEARER_CREDENTIAL_LABELS} bearer principals; the rest share 'other'`, async () => {
    const { registry, limiter } = setup(1_000_000 * 30_000);
    for (let i = 0; i < MAX_BEARER_CREDENTIAL_LABELS + 15; i++) limiter.take(`bearer:https://idp#app-${i}`, 'issue');
    const samples = parseExposition(await registry.metrics()).filter(
      (s) => s.name === 'tessera_rate_limit_utilisation_ratio',
    );
    expect(samples).toHaveLength(MAX_BEARER_CREDENTIAL_LABELS + 1);
    expect(samples.find((s) => s.labels.credential === 'other')?.value).toBe(1.5);
    expect(samples.find((s) => s.labels.credential === 'bearer:https://idp#app-0')?.value).toBe(0.1);
  });
});
