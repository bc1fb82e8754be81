import { describe, expect, it } from 'vitest';
import { API_SUPPORTED_VERSIONS_HEADER, API_VERSIONS, resolveApiVersion } from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

// docs/spec/wire-protocol.md §1.1, one row per api-version: scopes, expiresInMinutes, customId + GET, Teams exchange.
const TABLE = [
  ['2021-03-07', ['chat', 'voip'], false, false, false],
  ['2022-06-01', ['chat', 'voip'], false, false, true],
  ['2022-10-01', ['chat', 'voip'], true, false, true],
  ['2023-08-01', ['chat', 'voip'], true, false, true],
  ['2023-10-01', ['chat', 'chat.join', 'chat.join.limited', 'voip', 'voip.join'], true, false, true],
  ['2025-03-02-preview', ['chat', 'chat.join', 'chat.join.limited', 'voip', 'voip.join'], true, true, true],
  ['2025-06-30', ['chat', 'chat.join', 'chat.join.limited', 'voip', 'voip.join'], true, false, true],
] as const;

describe('api-versions', () => {
  it('serves exactly the versions of docs/spec/wire-protocol.md §1.1, oldest first', () => {
    expect(API_VERSIONS.map((v) => v.version)).toEqual(TABLE.map((row) => row[0]));
  });

  it.each(TABLE)('%s exposes what it had on the real service', (version, scopes, expiry, customId, teams) => {
    const features = resolveApiVersion(version, '/identities');
    expect(features.version).toBe(version);
    expect([...features.scopes].sort()).toEqual([...scopes]);
    expect(features.customExpiry).toBe(expiry);
    expect(features.customIdAndGet).toBe(customId);
    expect(features.teamsExchange).toBe(teams);
  });

  it('honours Repeatability-Request-ID from 2023-08-01 on', () => {
    const on = API_VERSIONS.filter((v) => v.repeatability).map((v) => v.version);
    expect(on).toEqual(['2023-08-01', '2023-10-01', '2025-03-02-preview', '2025-06-30']);
  });

  it('the default versions of the installed SDKs are served (identity 1.3.1 → 2023-10-01)', () => {
    expect(() => resolveApiVersion('2023-10-01', '/identities')).not.toThrow();
    expect(() => resolveApiVersion('2025-03-02-preview', '/identities')).not.toThrow();
  });

  it('api-supported-versions header lists every version, comma-space separated', () => {
    expect(API_SUPPORTED_VERSIONS_HEADER).toBe(
      '2021-03-07, 2022-06-01, 2022-10-01, 2023-08-01, 2023-10-01, 2025-03-02-preview, 2025-06-30',
    );
  });

  it("an unknown version → ERR_UNSUPPORTED_API_VERSION with the service's message", () => {
    const uri = '/identities?api-version=2024-01-01';
    const error = catchTessera(() => resolveApiVersion('2024-01-01', uri));
    expect(error.code).toBe('ERR_UNSUPPORTED_API_VERSION');
    expect(error.message).toBe(
      "The HTTP resource that matches the request URI '/identities?api-version=2024-01-01' does not support the API version '2024-01-01'.",
    );
    expect(error.target).toBe('api-version');
  });

  it('a missing or empty version names the required query parameter', () => {
    for (const v of [undefined, '']) {
      const error = catchTessera(() => resolveApiVersion(v, '/identities'));
      expect(error.code).toBe('ERR_UNSUPPORTED_API_VERSION');
      expect(error.message).toBe(
        "The HTTP resource that matches the request URI '/identities' requires the query parameter 'api-version'.",
      );
    }
  });

  it('matches versions exactly (no case folding, no trimming, no prefix match)', () => {
    for (const v of ['2023-10-01 ', '2025-03-02-PREVIEW', '2023-10', '2023-10-01-preview']) {
      expect(() => resolveApiVersion(v, '/')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_API_VERSION' }));
    }
  });
});
