// `tessera serve --chat on|off`: on (the default) mounts the chat API; off leaves the identity server alone;
// anything else is refused naming the setting.
import { chatSwitch, parseServeArgs } from '@tessera/cli';
import { isTesseraError } from '@tessera/core';
import { startServer } from '@tessera/server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('--chat', () => {
  it('reads on/off from the flag and from TESSERA_CHAT; on by default', () => {
    expect(chatSwitch(parseServeArgs([], {}).chat)).toBe(true);
    expect(chatSwitch(parseServeArgs(['--chat', 'off'], {}).chat)).toBe(false);
    expect(chatSwitch(parseServeArgs([], { TESSERA_CHAT: 'off' }).chat)).toBe(false);
    expect(chatSwitch(parseServeArgs(['--chat', 'on'], { TESSERA_CHAT: 'off' }).chat)).toBe(true);
  });

  it('refuses anything else, naming the setting', () => {
    let error: unknown;
    try {
      chatSwitch('maybe');
    } catch (e) {
      error = e;
    }
    expect(isTesseraError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    expect(String((error as Error).message)).toContain('--chat');
  });

  it('off: the identity server answers its own 404 for /chat/threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-off-'));
    const server = await startServer({ port: 0, logLevel: 'silent', dataDir: dir });
    try {
      const r = await fetch(new URL('/chat/threads?api-version=2025-03-15', server.url));
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NotFound');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
