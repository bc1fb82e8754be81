// The Tessera `presence` scope through the token service (docs/presence.md): a policy rule may grant it; the
// service then mints on the Tessera api-version (no ACS api-version accepts presence), and the token carries it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, call, startStack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

function acsScopeOf(token: unknown): string {
  const payload = JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString()) as {
    acsScope: string;
  };
  return payload.acsScope;
}

describe('presence in the token service policy', () => {
  it('a rule granting presence issues tokens that carry it (the service switches to 2025-06-30-tessera)', async () => {
    const service = await stack.tokenService({
      anonymous: true,
      policy: {
        rules: [
          { name: 'guest', match: { anonymous: true }, scopes: ['chat.join', 'presence'], maxLifetimeMinutes: 60 },
        ],
      },
    });
    const r = await call(`${service.url}api/token`);
    expect(r.status).toBe(200);
    expect(r.body.scopes).toEqual(['chat.join', 'presence']);
    expect(acsScopeOf(r.body.token)).toBe('chat.join,presence');
    const less = await call(`${service.url}api/token?scopes=presence`);
    expect(less.status).toBe(200);
    expect(acsScopeOf(less.body.token)).toBe('presence');
  });

  it('a rule without presence refuses a request for it (403), and an unknown scope is 400', async () => {
    const service = await stack.tokenService({
      anonymous: true,
      policy: { rules: [{ name: 'guest', match: { anonymous: true }, scopes: ['chat.join'], maxLifetimeMinutes: 60 }] },
    });
    const denied = await call(`${service.url}api/token?scopes=chat.join,presence`);
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('ERR_POLICY_DENIED');
    const unknown = await call(`${service.url}api/token?scopes=presences`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toContain(
      'scopes are chat, chat.join, chat.join.limited, voip, voip.join, presence',
    );
  });
});
