import { describe, expect, it } from 'vitest';
import type { AppUser } from '../../src/auth/app-principal.js';
import { parsePolicy } from '../../src/policy/policy.js';
import { readRoles, resolveGrant } from '../../src/policy/resolve-grant.js';
import { EXAMPLE_POLICY } from '../helpers/stack.js';

const user = (roles: string[], claims: Record<string, unknown> = {}): AppUser => ({
  kind: 'user',
  issuer: 'https://idp.example',
  subject: 's',
  roles,
  claims,
});

describe('policy file', () => {
  const policy = parsePolicy(EXAMPLE_POLICY);

  it('maps roles to scopes and lifetimes; first matching rule wins', () => {
    expect(resolveGrant(policy, user(['staff']), {})).toMatchObject({ scopes: ['chat', 'voip'], lifetimeMinutes: 480 });
    expect(resolveGrant(policy, user(['member', 'staff']), {}).rule.name).toBe('staff');
    expect(resolveGrant(policy, user([]), {})).toMatchObject({
      scopes: ['chat.join', 'voip.join'],
      lifetimeMinutes: 60,
    });
    expect(resolveGrant(policy, { kind: 'guest' }, {})).toMatchObject({
      scopes: ['chat.join.limited'],
      lifetimeMinutes: 60,
      rule: { identity: 'ephemeral' },
    });
  });

  it('refuses more than the rule allows (403), never widening or narrowing silently', () => {
    expect(() => resolveGrant(policy, { kind: 'guest' }, { scopes: ['chat.join'] })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_DENIED', status: 403 }),
    );
    expect(() => resolveGrant(policy, user(['staff']), { expiresInMinutes: 481 })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_DENIED' }),
    );
    expect(resolveGrant(policy, user(['staff']), { scopes: ['voip'], expiresInMinutes: 90 })).toMatchObject({
      scopes: ['voip'],
      lifetimeMinutes: 90,
    });
  });

  it('matches on claims and issuer', () => {
    const p = parsePolicy({
      rules: [
        {
          name: 'verified',
          match: { claims: { email_verified: true }, issuer: 'https://idp.example' },
          scopes: ['chat'],
          maxLifetimeMinutes: 60,
        },
        { name: 'rest', match: { authenticated: true }, scopes: ['chat.join.limited'], maxLifetimeMinutes: 60 },
      ],
    });
    expect(resolveGrant(p, user([], { email_verified: true }), {}).rule.name).toBe('verified');
    expect(resolveGrant(p, user([], { email_verified: false }), {}).rule.name).toBe('rest');
    expect(() => resolveGrant(p, { kind: 'guest' }, {})).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_NO_MATCH' }),
    );
  });

  it('reads roles from a claim list, a space-separated string or a dotted path', () => {
    expect(readRoles({ roles: ['a', 'b', 3] }, 'roles')).toEqual(['a', 'b']);
    expect(readRoles({ roles: 'a b,c' }, 'roles')).toEqual(['a', 'b', 'c']);
    expect(readRoles({ realm_access: { roles: ['staff'] } }, 'realm_access.roles')).toEqual(['staff']);
    expect(readRoles({}, 'roles')).toEqual([]);
  });

  it.each([
    [{}, 'policy.rules'],
    [{ rules: [{ name: 'x', match: {}, scopes: ['chat'], maxLifetimeMinutes: 60 }] }, 'policy.rules[0].match'],
    [
      { rules: [{ name: 'x', match: { anonymous: true }, scopes: ['chat', 'sms'], maxLifetimeMinutes: 60 }] },
      'policy.rules[0].scopes[1]',
    ],
    [
      { rules: [{ name: 'x', match: { anonymous: true }, scopes: ['chat'], maxLifetimeMinutes: 30 }] },
      'policy.rules[0].maxLifetimeMinutes',
    ],
    [
      {
        rules: [
          { name: 'x', match: { anonymous: true }, scopes: ['chat'], maxLifetimeMinutes: 60, identity: 'stable' },
        ],
      },
      'policy.rules[0].identity',
    ],
    [
      {
        rules: [
          { name: 'x', match: { anonymous: true }, scopes: ['chat'], defaultScopes: ['voip'], maxLifetimeMinutes: 60 },
        ],
      },
      'policy.rules[0].defaultScopes[0]',
    ],
    [
      {
        rules: [
          { name: 'x', match: { authenticated: true }, scopes: ['chat'], maxLifetimeMinutes: 60, scope: ['voip'] },
        ],
      },
      'policy.rules[0].scope',
    ],
  ])('refuses an invalid policy, naming the path (%#)', (value, path) => {
    expect(() => parsePolicy(value)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(`${path}:`) }),
    );
  });
});
