// GET /metrics of the token service: its own listener, requests by route pattern, tokens by rule and scope set,
// rate-limit decisions by limit — and no app user, IP or identity id in any label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../../../server/test/metrics/exposition.js';
import { type Stack, call, startStack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

describe('token service metrics', () => {
  it('are off unless --metrics-port is given', async () => {
    const service = await stack.tokenService();
    expect(service.metricsUrl).toBeUndefined();
    expect((await call(`${service.url}metrics`)).status).toBe(404);
  });

  it('count requests, tokens and rate-limit decisions without caller or identity labels', async () => {
    const service = await stack.tokenService({ metricsPort: 0, anonymous: true, ipRateLimit: '3/60' });
    const metricsUrl = service.metricsUrl ?? '';
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const guest = await call(`${service.url}api/token`);
    expect(guest.status).toBe(200);
    const identityId = (guest.body.user as { communicationUserId: string }).communicationUserId;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(`${service.url}api/token`)).status);
    expect(statuses.at(-1)).toBe(429);

    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    const text = await response.text();
    const ok = statuses.filter((s) => s === 200).length + 1;
    expect(
      sampleValue(text, 'tessera_token_service_requests_total', { operation: 'GET /api/token', status: '200' }),
    ).toBe(ok);
    expect(
      sampleValue(text, 'tessera_token_service_requests_total', { operation: 'GET /api/token', status: '429' }),
    ).toBe(4 - ok);
    expect(
      sampleValue(text, 'tessera_token_service_request_duration_seconds_count', { operation: 'GET /api/token' }),
    ).toBe(4);
    expect(
      sampleValue(text, 'tessera_token_service_tokens_issued_total', { rule: 'guest', scopes: 'chat.join.limited' }),
    ).toBe(ok);
    expect(sampleValue(text, 'tessera_token_service_sessions_started_total', { kind: 'guest' })).toBe(ok);
    expect(
      sampleValue(text, 'tessera_token_service_rate_limit_decisions_total', { limit: 'ip', decision: 'limited' }),
    ).toBe(4 - ok);
    expect(sampleValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    const labels = parseExposition(text).flatMap((s) => Object.values(s.labels));
    for (const value of labels) {
      expect(value).not.toContain(identityId.slice(-36));
      expect(value).not.toMatch(/127\.0\.0\.1|acs:/);
    }
  });
});
