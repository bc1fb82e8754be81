// ServerHostAccess (what ServerOptions.register gets): the live keys follow the key ring, carry name, version and
// full-control flag, and never show their text in logs or JSON; bearer principals come through with their actions.
import { createSecretKey, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createHostAccess } from '../../src/auth/host-access.js';
import { createKeyRing, type LiveAccessKey } from '../../src/auth/key-ring.js';
import type { AccessKeyName } from '../../src/store/store.js';

function live(name: AccessKeyName, version: number): LiveAccessKey {
  const bytes = randomBytes(32);
  return { name, version, base64: bytes.toString('base64'), secret: createSecretKey(bytes) };
}

const common = { resourceId: 'r', publicHost: undefined, maxClockSkewMs: 900_000, clock: () => 0 };

describe('createHostAccess', () => {
  it('follows a regeneration at once and marks only the primary and secondary keys full-control', () => {
    const first = [live('primary', 1), live('secondary', 1), live('verifier', 1)];
    const ring = createKeyRing(first);
    const host = createHostAccess({ ...common, keys: ring, bearer: undefined });
    const before = host.accessKeys();
    expect(before.map((k) => [k.name, k.version, k.fullControl])).toEqual([
      ['primary', 1, true],
      ['secondary', 1, true],
      ['verifier', 1, false],
    ]);
    expect(host.accessKeys()).toBe(before); // mapped once per ring state
    const regenerated = live('primary', 2);
    ring.replace([regenerated, first[1] as LiveAccessKey, first[2] as LiveAccessKey]);
    const after = host.accessKeys();
    expect(after[0]?.version).toBe(2);
    expect(after[0]?.secret).toBe(regenerated.secret);
    expect(host.bearer).toBeUndefined();
  });

  it('never shows a key’s text: not in util.inspect (what loggers print), not in JSON', () => {
    const keys = [live('primary', 1), live('secondary', 1), live('verifier', 1)];
    const host = createHostAccess({ ...common, keys: createKeyRing(keys), bearer: undefined });
    const printed = `${inspect(host.accessKeys(), { depth: 10 })}${JSON.stringify(host.accessKeys())}${inspect(host, { depth: 10 })}`;
    for (const k of keys) {
      expect(printed).not.toContain(k.base64);
      expect(printed).not.toContain(Buffer.from(k.base64, 'base64').toString('hex'));
    }
  });

  it('passes bearer principals through with their data actions', async () => {
    const host = createHostAccess({
      ...common,
      keys: createKeyRing([]),
      bearer: async () => ({
        kind: 'bearer',
        issuer: 'https://i',
        subject: 's',
        actions: new Set(['rooms/read'] as const),
      }),
    });
    const principal = await host.bearer?.('token');
    expect(principal).toMatchObject({ issuer: 'https://i', subject: 's' });
    expect([...(principal?.actions ?? [])]).toEqual(['rooms/read']);
  });
});
