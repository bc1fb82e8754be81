// docs/chat.md lists every code of CHAT_ERRORS with its status and ACS code, and no code that does not exist.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHAT_ERRORS, ChatError, toChatErrorResponse } from '../src/errors.js';

const page = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../docs/chat.md'), 'utf8');

describe('CHAT_ERRORS', () => {
  it('docs/chat.md has a row per code: code, HTTP status, ACS code', () => {
    for (const [code, row] of Object.entries(CHAT_ERRORS)) {
      const pattern = new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${row.status}\\s*\\|\\s*\`${row.acsCode}\`\\s*\\|`);
      expect(page, code).toMatch(pattern);
    }
  });

  it('docs/chat.md names no chat code that does not exist', () => {
    const named = new Set(page.match(/ERR_CHAT_[A-Z_]+/g) ?? []);
    for (const code of named) expect(Object.keys(CHAT_ERRORS), code).toContain(code);
  });

  it('answers the ACS error body; an unknown throw is a bare 500 with no detail', () => {
    const r = toChatErrorResponse(
      new ChatError('ERR_CHAT_VALIDATION', { target: 'topic', message: "'topic' is required." }),
    );
    expect(r).toEqual({
      status: 400,
      headers: {},
      body: {
        error: {
          code: 'BadRequest',
          message: "'topic' is required.",
          target: 'topic',
          innererror: { code: 'ERR_CHAT_VALIDATION', message: "'topic' is required." },
        },
      },
    });
    const internal = toChatErrorResponse(new Error('secret detail'));
    expect(internal.status).toBe(500);
    expect(JSON.stringify(internal.body)).not.toContain('secret');
  });
});
