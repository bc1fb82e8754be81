import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { END, generatedSection, START } from '../scripts/gen-table.mjs';

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');

describe('README', () => {
  it('carries the capability and Rooms-role tables exactly as generated from the data in core', () => {
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    expect(readme.slice(start, end + END.length)).toBe(generatedSection());
  });

  it('documents every error code the verifier can raise', () => {
    for (const code of [
      'ERR_TOKEN_MALFORMED',
      'ERR_TOKEN_BAD_SIGNATURE',
      'ERR_TOKEN_UNKNOWN_KEY',
      'ERR_TOKEN_WRONG_ISSUER',
      'ERR_TOKEN_WRONG_AUDIENCE',
      'ERR_TOKEN_EXPIRED',
      'ERR_TOKEN_NOT_YET_VALID',
      'ERR_TOKEN_REVOKED',
      'ERR_TOKEN_IDENTITY_DELETED',
      'ERR_TOKEN_KEY_ROTATED',
      'ERR_TOKEN_UNSUPPORTED_VERSION',
      'ERR_REVOCATION_STALE',
      'ERR_STORE_UNAVAILABLE',
      'ERR_CAPABILITY_DENIED',
    ]) {
      expect(readme).toContain(`\`${code}\``);
    }
  });
});
