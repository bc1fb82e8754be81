import { describe, expect, it } from 'vitest';
import { buildClaims, checkRevocation, type RevocationState, type TokenClaims } from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

const RAW_ID = '8:acs:6f1c4f2e-9d3a-4b7e-8c21-5a0b7d3e9f10_0192f3a4-5b6c-7d8e-9f01-23456789abcd';
const T0 = 1767225600000;

/** Mint claims the way the server does: with the identity's current epoch and the signing key's version. */
function mint(opts: { nowMs: number; epoch: number; key?: { name: 'primary' | 'secondary'; version: number } }) {
  return buildClaims({
    issuer: 'https://tessera.example.com/',
    audience: 'https://tessera.example.com/communication',
    rawId: RAW_ID,
    scopes: ['chat'],
    nowMs: opts.nowMs,
    lifetimeMinutes: 1440,
    tokenId: `t-${opts.nowMs}`,
    resourceLocation: 'unitedstates',
    region: 'amer',
    revocationEpoch: opts.epoch,
    accessKey: opts.key,
  });
}

const keys = { primary: 3, secondary: 1 };
const live = (epoch: number, accessKeys = keys): RevocationState => ({
  identity: { epoch, deleted: false },
  accessKeys,
});
const codeOf = (claims: Pick<TokenClaims, 'rev' | 'akv'>, state: RevocationState) => {
  try {
    checkRevocation(claims, state);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('checkRevocation — identity revocation is exact, not clock-guessing', () => {
  it('revoking rejects a token issued 1 ms before and accepts one issued 1 ms after, in the same second', () => {
    // Timeline within one wall-clock second: mint (epoch 0) @ T0+499, revoke → epoch 1 @ T0+500, mint @ T0+501.
    const before = mint({ nowMs: T0 + 499, epoch: 0, key: { name: 'primary', version: 3 } });
    const after = mint({ nowMs: T0 + 501, epoch: 1, key: { name: 'primary', version: 3 } });
    expect(before.iat).toBe(after.iat); // second-granular iat could not tell them apart
    expect(codeOf(before, live(1))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(after, live(1))).toBe('ok');
  });

  it('a token minted at the current epoch is accepted; any older epoch is revoked', () => {
    expect(codeOf({ rev: 5 }, live(5))).toBe('ok');
    expect(codeOf({ rev: 4 }, live(5))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf({ rev: 0 }, live(5))).toBe('ERR_TOKEN_REVOKED');
  });

  it('a second revoke also rejects tokens minted between the two revokes', () => {
    const between = mint({ nowMs: T0 + 1000, epoch: 1 });
    expect(codeOf(between, live(1))).toBe('ok');
    expect(codeOf(between, live(2))).toBe('ERR_TOKEN_REVOKED');
  });

  it('a deleted identity rejects all its tokens, including current-epoch ones', () => {
    const state: RevocationState = { identity: { epoch: 1, deleted: true }, accessKeys: keys };
    expect(codeOf({ rev: 1 }, state)).toBe('ERR_TOKEN_IDENTITY_DELETED');
    expect(codeOf({ rev: 7 }, state)).toBe('ERR_TOKEN_IDENTITY_DELETED');
  });

  it('an unknown identity is treated as deleted (fail closed)', () => {
    expect(codeOf({ rev: 0 }, { identity: undefined, accessKeys: keys })).toBe('ERR_TOKEN_IDENTITY_DELETED');
  });

  it('deletion wins over revocation and key rotation when all apply', () => {
    const state: RevocationState = { identity: { epoch: 9, deleted: true }, accessKeys: { primary: 9, secondary: 9 } };
    expect(codeOf({ rev: 0, akv: 'primary.1' }, state)).toBe('ERR_TOKEN_IDENTITY_DELETED');
  });
});

describe('checkRevocation — access key rotation revokes only what that key minted', () => {
  const viaPrimary = mint({ nowMs: T0, epoch: 0, key: { name: 'primary', version: 3 } });
  const viaSecondary = mint({ nowMs: T0, epoch: 0, key: { name: 'secondary', version: 1 } });
  const viaBearer = mint({ nowMs: T0, epoch: 0 });

  it('before any rotation every token is accepted', () => {
    for (const c of [viaPrimary, viaSecondary, viaBearer]) expect(codeOf(c, live(0))).toBe('ok');
  });

  it('regenerating the primary key revokes primary-minted tokens only', () => {
    const rotated = live(0, { primary: 4, secondary: 1 });
    expect(codeOf(viaPrimary, rotated)).toBe('ERR_TOKEN_KEY_ROTATED');
    expect(codeOf(viaSecondary, rotated)).toBe('ok');
    expect(codeOf(viaBearer, rotated)).toBe('ok');
  });

  it('regenerating the secondary key revokes secondary-minted tokens only', () => {
    const rotated = live(0, { primary: 3, secondary: 2 });
    expect(codeOf(viaPrimary, rotated)).toBe('ok');
    expect(codeOf(viaSecondary, rotated)).toBe('ERR_TOKEN_KEY_ROTATED');
    expect(codeOf(viaBearer, rotated)).toBe('ok');
  });

  it('bearer-minted (Entra/OIDC) tokens carry no akv and survive any number of rotations of both keys', () => {
    expect(viaBearer.akv).toBeUndefined();
    expect('akv' in viaBearer).toBe(false);
    expect(codeOf(viaBearer, live(0, { primary: 1000, secondary: 1000 }))).toBe('ok');
  });

  it('tokens minted with the new key version are accepted after the rotation', () => {
    const fresh = mint({ nowMs: T0 + 1, epoch: 0, key: { name: 'primary', version: 4 } });
    expect(codeOf(fresh, live(0, { primary: 4, secondary: 1 }))).toBe('ok');
  });

  it('an akv naming a version the server never had (ahead of the current one) is rejected too', () => {
    expect(codeOf({ rev: 0, akv: 'primary.4' }, live(0))).toBe('ERR_TOKEN_KEY_ROTATED');
  });

  it('an unparseable akv is rejected (fail closed)', () => {
    for (const akv of ['', 'primary', 'tertiary.3', 'primary.x']) {
      expect(codeOf({ rev: 0, akv }, live(0))).toBe('ERR_TOKEN_KEY_ROTATED');
    }
  });

  it('identity revocation is checked before key rotation', () => {
    expect(codeOf({ rev: 0, akv: 'primary.1' }, live(1))).toBe('ERR_TOKEN_REVOKED');
  });

  it('errors are TesseraErrors with fixed messages', () => {
    const error = catchTessera(() => checkRevocation({ rev: 0, akv: 'primary.1' }, live(0)));
    expect(error.message).toBe('The access key that minted this token has been regenerated.');
  });
});
