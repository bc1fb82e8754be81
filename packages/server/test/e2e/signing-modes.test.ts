import { describe, expect, it } from 'vitest';
import { createIdentity, fetchJwks, issueToken, startTestServer, targetOf, verifiesAgainstJwks } from './helpers.js';

// `--signing worker` (default) hands signatures to worker threads through shared memory (`--signing-threads`, default
// 1); `--signing threadpool` signs per token on libuv's pool. Both must mint tokens that verify against the JWKS, under
// concurrency (several in flight at once).
describe.each([
  ['worker', 2],
  ['worker', 1],
  ['threadpool', 1],
] as const)('--signing %s (threads %s)', (signing, signingThreads) => {
  it('40 concurrent issues: every token verifies against the JWKS and names its own identity', async () => {
    const server = await startTestServer({ signing, signingThreads });
    try {
      const target = targetOf(server.server.connectionString);
      const ids = await Promise.all(Array.from({ length: 8 }, async () => (await createIdentity(target)).identity.id));
      const jwks = await fetchJwks(server.url);
      const issued = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const id = ids[i % ids.length] ?? '';
          return { id, token: (await issueToken(target, id, ['chat'])).token };
        }),
      );
      for (const { id, token } of issued) {
        expect(verifiesAgainstJwks(token, jwks)).toBe(true);
        const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
        expect(payload.sub).toBe(id);
      }
    } finally {
      await server.close();
    }
  });
});

describe('--signing validation', () => {
  it("anything but 'worker' or 'threadpool' is ERR_CONFIG_INVALID naming the setting", async () => {
    await expect(startTestServer({ signing: 'fast' as 'worker' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('signing'),
    });
  });

  it.each([0, 17, 1.5])('--signing-threads %s is ERR_CONFIG_INVALID naming the setting', async (signingThreads) => {
    await expect(startTestServer({ signingThreads })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('signing-threads'),
    });
  });
});
