// Issue #14, secrets hygiene: the token service's secret settings can come from files (flag or TESSERA_TS_*_FILE), so
// the connection string, bearer token and cache key stay out of `ps` and shell history; inline and file together is
// an error naming the setting, and a file's contents never reach the message.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../server/test/e2e/helpers.js';
import { parseTokenServiceArgs } from '../src/token-service-command.js';

const dir = tempDir('tessera-secret-files-');
afterAll(() => dir.cleanup());

function file(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

const CS = 'endpoint=http://127.0.0.1:8080/;accesskey=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0xMjM0';

describe('tessera token-service: secrets from files', () => {
  it('--connection-string-file and TESSERA_TS_ENCRYPTION_KEY_FILE are read and trimmed', () => {
    const key = Buffer.alloc(32, 5).toString('base64');
    const { options } = parseTokenServiceArgs(
      ['--connection-string-file', file('cs', `${CS}\n`), '--policy', 'policy.json'],
      { TESSERA_TS_ENCRYPTION_KEY_FILE: file('key', ` ${key}\n`) },
    );
    expect(options.identity).toBe(CS);
    expect((options as { encryptionKey?: string }).encryptionKey).toBe(key);
  });

  it('--bearer-token-file with --endpoint', async () => {
    const { options } = parseTokenServiceArgs(
      ['--endpoint', 'https://id.example/', '--bearer-token-file', file('bt', 'eyJ.bearer.token\n'), '--policy', 'p'],
      {},
    );
    const identity = options.identity as { endpoint: string; credential: () => Promise<string> };
    expect(identity.endpoint).toBe('https://id.example/');
    expect(await identity.credential()).toBe('eyJ.bearer.token');
  });

  it.each([
    [['--connection-string', CS, '--connection-string-file', 'x'], /--connection-string-file.*cannot be combined/],
    [['--connection-string-file', join('/nonexistent', 'cs')], /--connection-string-file.*cannot read/],
  ])('bad: %j', (args, message) => {
    const run = () => parseTokenServiceArgs([...args, '--policy', 'p'], {});
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect(String(error)).not.toContain('accesskey=');
    }
  });

  it('an empty file is an error naming the setting', () => {
    expect(() => parseTokenServiceArgs(['--connection-string-file', file('empty', '\n'), '--policy', 'p'], {})).toThrow(
      /TESSERA_TS_CONNECTION_STRING_FILE.*is empty/,
    );
  });
});
