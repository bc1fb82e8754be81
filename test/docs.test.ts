import { readFileSync } from 'node:fs';
import { SERVE_SETTINGS, envName } from '@tessera/cli';
import { ERROR_CODES } from '@tessera/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { expectedReadme } from '../scripts/readme-tables.mjs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README stays in step with the code', () => {
  it('starts with the install, start and test commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = firstBlock
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm install', 'npm start', 'npm test']);
    expect(readme.indexOf('```sh')).toBeLessThan(200);
  });

  it('documents every tessera serve flag and its environment variable', () => {
    for (const setting of SERVE_SETTINGS) {
      const row = new RegExp(`\\|\\s*\`--${setting.flag}\`\\s*\\|\\s*\`${envName(setting.flag)}\`\\s*\\|`);
      expect(readme, `--${setting.flag}`).toMatch(row);
    }
  });

  it('lists every error code, as generated from the code (node scripts/readme-tables.mjs --write)', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(readme).toContain(`\`${code}\``);
    expect(readme).toBe(expectedReadme(readme));
  });
});
