import { describe, expect, it } from 'vitest';
import {
  API_VERSIONS,
  TESSERA_API_VERSION,
  TOKEN_SCOPES,
  isTokenScope,
  parseScopes,
  resolveApiVersion,
} from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

const ALL = resolveApiVersion('2023-10-01', '/').scopes;
const BASIC = resolveApiVersion('2022-10-01', '/').scopes;

describe('TOKEN_SCOPES', () => {
  it('is exactly the five scopes of the ACS identity model, then the Tessera presence scope', () => {
    expect([...TOKEN_SCOPES]).toEqual(['chat', 'chat.join', 'chat.join.limited', 'voip', 'voip.join', 'presence']);
    for (const s of TOKEN_SCOPES) expect(isTokenScope(s)).toBe(true);
    for (const s of ['Chat', 'email', '', ' chat', 'chat ', 'voip.join.limited', 1, null, undefined]) {
      expect(isTokenScope(s)).toBe(false);
    }
  });
});

describe('parseScopes — the messages of docs/spec/wire-protocol.md §1.5', () => {
  it("scopes: null → 400 'Scopes: The Scopes field is required.' target 'Scopes' (python recording)", () => {
    for (const value of [null, undefined]) {
      const error = catchTessera(() => parseScopes(value, { allowed: ALL, field: 'scopes' }));
      expect(error.code).toBe('ERR_VALIDATION');
      expect(error.message).toBe('Scopes: The Scopes field is required.');
      expect(error.target).toBe('Scopes');
    }
  });

  it("scopes: [] → 'Invalid scopes - Scopes field is required.' target 'scopes' (JS recording)", () => {
    const error = catchTessera(() => parseScopes([], { allowed: ALL, field: 'scopes' }));
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.message).toBe('Invalid scopes - Scopes field is required.');
    expect(error.target).toBe('scopes');
  });

  it('names the createTokenWithScopes field when validating a create request', () => {
    const empty = catchTessera(() => parseScopes([], { allowed: ALL, field: 'createTokenWithScopes' }));
    expect(empty.message).toBe('Invalid scopes - CreateTokenWithScopes field is required.');
    expect(empty.target).toBe('createTokenWithScopes');
    const missing = catchTessera(() => parseScopes(null, { allowed: ALL, field: 'createTokenWithScopes' }));
    expect(missing.message).toBe('CreateTokenWithScopes: The CreateTokenWithScopes field is required.');
    expect(missing.target).toBe('CreateTokenWithScopes');
  });

  it('refuses a non-array with ERR_VALIDATION', () => {
    for (const value of ['chat', { 0: 'chat' }, 1, true]) {
      const error = catchTessera(() => parseScopes(value, { allowed: ALL, field: 'scopes' }));
      expect(error.code).toBe('ERR_VALIDATION');
      expect(error.message).toBe('Scopes: The Scopes field must be an array of scopes.');
      expect(error.target).toBe('scopes');
    }
  });

  it('refuses an unknown scope naming it and listing the valid ones of the api-version', () => {
    const error = catchTessera(() => parseScopes(['chat', 'email'], { allowed: ALL, field: 'scopes' }));
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.message).toBe(
      "Invalid scopes - 'email' is not a valid scope. Valid scopes are: chat, voip, chat.join, chat.join.limited, voip.join.",
    );
    expect(error.target).toBe('scopes');
  });

  it('refuses a scope newer than the api-version (chat.join before 2023-10-01)', () => {
    const error = catchTessera(() => parseScopes(['chat.join'], { allowed: BASIC, field: 'scopes' }));
    expect(error.message).toBe("Invalid scopes - 'chat.join' is not a valid scope. Valid scopes are: chat, voip.");
  });

  it('does not echo non-strings and truncates long values to 64 characters', () => {
    const nonString = catchTessera(() => parseScopes([{ evil: true }], { allowed: ALL, field: 'scopes' }));
    expect(nonString.message).toContain('a non-string value');
    expect(nonString.message).not.toContain('evil');
    const long = 'x'.repeat(10_000);
    const truncated = catchTessera(() => parseScopes([long], { allowed: ALL, field: 'scopes' }));
    expect(truncated.message).toContain(`'${'x'.repeat(64)}'`);
    expect(truncated.message).not.toContain('x'.repeat(65));
  });

  it('is case-sensitive like the service enum', () => {
    expect(() => parseScopes(['Chat'], { allowed: ALL, field: 'scopes' })).toThrow(/'Chat' is not a valid scope/);
  });

  it('returns the scopes de-duplicated, in request order', () => {
    expect(parseScopes(['voip', 'chat', 'voip', 'chat.join'], { allowed: ALL, field: 'scopes' })).toEqual([
      'voip',
      'chat',
      'chat.join',
    ]);
  });

  it('accepts every scope each api-version lists', () => {
    for (const v of API_VERSIONS) {
      expect(parseScopes([...v.scopes], { allowed: v.scopes, field: 'scopes' })).toEqual([...v.scopes]);
    }
  });
});

describe('presence (Tessera extension)', () => {
  it('no ACS api-version accepts it: refused as an unknown scope is', () => {
    for (const version of API_VERSIONS) {
      const error = catchTessera(() => parseScopes(['chat', 'presence'], { allowed: version.scopes, field: 'scopes' }));
      expect(error.code).toBe('ERR_VALIDATION');
      expect(error.message).toBe(
        `Invalid scopes - 'presence' is not a valid scope. Valid scopes are: ${version.scopes.join(', ')}.`,
      );
    }
  });

  it('the Tessera api-version 2025-06-30-tessera accepts it, and every ACS scope', () => {
    const tessera = resolveApiVersion('2025-06-30-tessera', '/identities');
    expect(tessera).toBe(TESSERA_API_VERSION);
    expect(parseScopes(['presence', 'chat.join'], { allowed: tessera.scopes, field: 'scopes' })).toEqual([
      'presence',
      'chat.join',
    ]);
    expect([...tessera.scopes].sort()).toEqual([...TOKEN_SCOPES].sort());
    expect(API_VERSIONS.map((v) => v.version)).not.toContain('2025-06-30-tessera');
  });
});
