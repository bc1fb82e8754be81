import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitBreakerRegistry, type CircuitState, isClientError } from '../../src/index.js';
import { ManualTime } from '../helpers/manual-time.js';

function breaker(time: ManualTime, changes: string[] = []) {
  return new CircuitBreaker({
    clock: time,
    failureThreshold: 3,
    windowMs: 10_000,
    openMs: 5_000,
    onStateChange: (s: CircuitState, p: CircuitState) => changes.push(`${p}->${s}`),
  });
}

function fail(b: CircuitBreaker): void {
  b.acquire().failure();
}

describe('CircuitBreaker', () => {
  it('opens after N failures inside the window', () => {
    const time = new ManualTime();
    const b = breaker(time);
    fail(b);
    fail(b);
    expect(b.state).toBe('closed');
    fail(b);
    expect(b.state).toBe('open');
  });

  it('failures outside the window do not count', async () => {
    const time = new ManualTime();
    const b = breaker(time);
    fail(b);
    fail(b);
    await time.advance(10_001);
    fail(b);
    expect(b.state).toBe('closed');
  });

  it('a success in between resets the count', () => {
    const time = new ManualTime();
    const b = breaker(time);
    fail(b);
    fail(b);
    b.acquire().success();
    fail(b);
    fail(b);
    expect(b.state).toBe('closed');
  });

  it('fails fast while open, saying when to retry', async () => {
    const time = new ManualTime();
    const b = breaker(time);
    for (let i = 0; i < 3; i++) fail(b);
    await time.advance(2_000);
    let error: unknown;
    try {
      b.acquire('http://127.0.0.1:1');
    } catch (e) {
      error = e;
    }
    expect(isClientError(error, 'ERR_CIRCUIT_OPEN')).toBe(true);
    expect(error).toMatchObject({ retryAfterMs: 3_000 });
  });

  it('half-open lets exactly one probe through; its success closes the circuit', async () => {
    const time = new ManualTime();
    const changes: string[] = [];
    const b = breaker(time, changes);
    for (let i = 0; i < 3; i++) fail(b);
    await time.advance(5_000);
    expect(b.state).toBe('half-open');
    const probe = b.acquire();
    expect(() => b.acquire()).toThrow(expect.objectContaining({ code: 'ERR_CIRCUIT_OPEN' }));
    probe.success();
    expect(b.state).toBe('closed');
    b.acquire().success();
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('a failed probe opens it again for another openMs', async () => {
    const time = new ManualTime();
    const b = breaker(time);
    for (let i = 0; i < 3; i++) fail(b);
    await time.advance(5_000);
    b.acquire().failure();
    expect(b.state).toBe('open');
    await time.advance(4_999);
    expect(() => b.acquire()).toThrow();
    await time.advance(1);
    expect(() => b.acquire()).not.toThrow();
  });

  it('a released probe (caller aborted) lets the next call probe', async () => {
    const time = new ManualTime();
    const b = breaker(time);
    for (let i = 0; i < 3; i++) fail(b);
    await time.advance(5_000);
    b.acquire().release();
    expect(() => b.acquire()).not.toThrow();
  });

  it('ignores outcomes of calls that started before the last state change', async () => {
    const time = new ManualTime();
    const b = breaker(time);
    const slow = b.acquire();
    for (let i = 0; i < 3; i++) fail(b);
    slow.success(); // a success from before the circuit opened does not close it
    expect(b.state).toBe('open');
  });

  it('the registry keys breakers by endpoint origin', () => {
    const registry = new CircuitBreakerRegistry();
    expect(registry.get('http://127.0.0.1:8080/')).toBe(registry.get(new URL('http://127.0.0.1:8080/identities?x=1')));
    expect(registry.get('http://127.0.0.1:8080/')).not.toBe(registry.get('http://127.0.0.1:8081/'));
    expect(registry.get('https://a.example/')).not.toBe(registry.get('http://a.example/'));
  });
});
