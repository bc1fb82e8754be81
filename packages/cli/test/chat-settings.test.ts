// `tessera chat-service` and `tessera serve` chat settings: --synchronous / --chat-synchronous (durability opt-out),
// --rooms-key / --rooms-key-file (the standalone Rooms API's key), --cors-origin / --chat-cors-origin (browser
// origins, repeatable or comma-separated); each bad value names its setting, never the key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chatCorsSetting, chatSynchronousSetting } from '../src/chat-mount.js';
import { parseChatServiceArgs } from '../src/chat-service-command.js';
import { parseServeArgs } from '../src/serve-command.js';

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

describe('serve --chat-cors-origin', () => {
  it('reads the flag (repeated or comma-separated) and TESSERA_CHAT_CORS_ORIGIN; default none', () => {
    expect(parseServeArgs([], {}).chatCorsOrigin).toBeUndefined();
    const flags = parseServeArgs(
      ['--chat-cors-origin', 'https://a.example', '--chat-cors-origin', 'https://b.example,http://127.0.0.1:5173'],
      {},
    );
    expect(chatCorsSetting(flags.chatCorsOrigin)).toEqual([
      'https://a.example',
      'https://b.example',
      'http://127.0.0.1:5173',
    ]);
    const env = parseServeArgs([], { TESSERA_CHAT_CORS_ORIGIN: 'HTTPS://App.Example/, *' });
    expect(chatCorsSetting(env.chatCorsOrigin)).toEqual(['https://app.example', '*']);
    expect(chatCorsSetting(undefined)).toEqual([]);
  });

  it('refuses a path or a bare host naming the setting and its variable', () => {
    for (const bad of ['https://a.example/app', 'a.example']) {
      const e = refusal(() => chatCorsSetting([bad]));
      expect(e).toMatchObject({ code: 'ERR_CONFIG_INVALID', target: 'chat-cors-origin' });
      expect(e.message).toContain('TESSERA_CHAT_CORS_ORIGIN');
    }
  });
});

describe('chat-service --cors-origin', () => {
  it('default none; flags and TESSERA_CHAT_CORS_ORIGIN become the cors option; bad origins are refused', () => {
    expect(parseChatServiceArgs(base, {}).cors).toBeUndefined();
    expect(parseChatServiceArgs([...base, '--cors-origin', 'https://a.example,*'], {}).cors).toEqual({
      origins: ['https://a.example', '*'],
    });
    expect(parseChatServiceArgs(base, { TESSERA_CHAT_CORS_ORIGIN: 'http://localhost:3000' }).cors).toEqual({
      origins: ['http://localhost:3000'],
    });
    expect(refusal(() => parseChatServiceArgs([...base, '--cors-origin', 'ftp://x'], {}))).toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      target: 'cors-origin',
    });
  });
});
