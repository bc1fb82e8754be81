// `tessera chat-service` and `tessera serve` chat settings: --synchronous / --chat-synchronous (durability opt-out),
// --rooms-key / --rooms-key-file (the standalone Rooms API's key); each bad value names its setting, never the key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chatSynchronousSetting } from '../src/chat-mount.js';
import { parseChatServiceArgs } from '../src/chat-service-command.js';

const verifierKey = randomBytes(32).toString('base64');
const base = ['--connection-string', `endpoint=https://id.example/;accesskey=${verifierKey}`];
const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(run: () => unknown): { code?: string; target?: string; message: string } {
  try {
    run();
  } catch (error) {
    return error as { code?: string; target?: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('chat-service --synchronous', () => {
  it('defaults to the durable store; normal and FULL are read; anything else is refused naming the setting', () => {
    const plain = parseChatServiceArgs(base, {});
    expect(plain.store).toMatchObject({ kind: 'sqlite' });
    expect((plain.store as { synchronous?: string }).synchronous).toBeUndefined();
    expect(parseChatServiceArgs([...base, '--synchronous', 'normal'], {}).store).toMatchObject({
      synchronous: 'normal',
    });
    expect(parseChatServiceArgs(base, { TESSERA_CHAT_SYNCHRONOUS: 'FULL' }).store).toMatchObject({
      synchronous: 'full',
    });
    const bad = refusal(() => parseChatServiceArgs([...base, '--synchronous', 'off'], {}));
    expect(bad).toMatchObject({ code: 'ERR_CONFIG_INVALID', target: 'synchronous' });
  });

  it('serve --chat-synchronous: full, normal, or a refusal naming it', () => {
    expect(chatSynchronousSetting(undefined)).toBeUndefined();
    expect(chatSynchronousSetting('Normal')).toBe('normal');
    expect(refusal(() => chatSynchronousSetting('fast'))).toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      target: 'chat-synchronous',
    });
  });
});

describe('chat-service --rooms-key', () => {
  it('reads the key inline or from a file; both at once, a short key or the verifier key are refused', () => {
    const roomsKey = randomBytes(32).toString('base64');
    expect(parseChatServiceArgs([...base, '--rooms-key', roomsKey], {}).roomsKey).toBe(roomsKey);
    const file = join(dir, 'rooms.key');
    writeFileSync(file, `${roomsKey}\n`);
    expect(parseChatServiceArgs([...base, '--rooms-key-file', file], {}).roomsKey).toBe(roomsKey);
    expect(parseChatServiceArgs(base, { TESSERA_CHAT_ROOMS_KEY_FILE: file }).roomsKey).toBe(roomsKey);
    expect(
      refusal(() => parseChatServiceArgs([...base, '--rooms-key', roomsKey, '--rooms-key-file', file], {})),
    ).toMatchObject({
      target: 'rooms-key-file',
    });
    const short = randomBytes(16).toString('base64');
    const tooShort = refusal(() => parseChatServiceArgs([...base, '--rooms-key', short], {}));
    expect(tooShort).toMatchObject({ code: 'ERR_CONFIG_INVALID', target: 'rooms-key' });
    expect(tooShort.message).not.toContain(short);
    writeFileSync(file, verifierKey);
    const same = refusal(() => parseChatServiceArgs([...base, '--rooms-key-file', file], {}));
    expect(same).toMatchObject({ code: 'ERR_CONFIG_INVALID', target: 'rooms-key-file' });
    expect(same.message).toContain('verifier key');
    expect(same.message).not.toContain(verifierKey);
    writeFileSync(file, '');
    expect(refusal(() => parseChatServiceArgs([...base, '--rooms-key-file', file], {}))).toMatchObject({
      target: 'rooms-key-file',
    });
  });
});
