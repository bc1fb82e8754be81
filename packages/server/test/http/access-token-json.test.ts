import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { encodeClaimsJson, formatRawId } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createTokenSigner } from '../../src/crypto/token-signer.js';
import { accessTokenJson } from '../../src/http/access-token-json.js';
import { formatServiceDate } from '../../src/service/resource-context.js';

describe('accessTokenJson (the issue route writes its body without the serializer)', () => {
  it('is byte-for-byte what JSON.stringify writes, for tokens and dates as the service makes them', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = createTokenSigner('key-1', privateKey);
    for (const nowMs of [0, Date.now(), Date.UTC(9999, 11, 31)]) {
      const { json, exp } = encodeClaimsJson({
        issuer: 'urn:tessera:resource:x',
        audience: 'urn:tessera:user-access',
        rawId: formatRawId(randomUUID(), randomUUID()),
        scopes: ['chat', 'voip'],
        nowMs,
        lifetimeMinutes: 60,
        tokenId: randomUUID(),
        resourceLocation: 'unitedstates',
        region: 'amer',
        revocationEpoch: 3,
      });
      const accessToken = { token: await signer.sign(json), expiresOn: formatServiceDate(exp * 1000) };
      expect(accessTokenJson(accessToken)).toBe(JSON.stringify(accessToken));
    }
  });
});
