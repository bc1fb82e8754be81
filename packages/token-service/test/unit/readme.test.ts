import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsMarkdown } from '../../../cli/src/settings-table.js';
import { TOKEN_SERVICE_SETTINGS, tokenServiceEnvName } from '../../../cli/src/token-service-command.js';
import { TOKEN_SERVICE_ERRORS } from '../../src/errors/token-service-error.js';

const section = readFileSync(new URL('../../../../docs/token-service.md', import.meta.url), 'utf8');

describe('docs/token-service.md stays in step with the code', () => {
  it('is the token service page', () => {
    expect(section.startsWith('# The trusted token service')).toBe(true);
  });

  it('its flag table is the one generated from TOKEN_SERVICE_SETTINGS (node scripts/docs-tables.mjs --write)', () => {
    const table = settingsMarkdown(TOKEN_SERVICE_SETTINGS, tokenServiceEnvName);
    expect(section).toContain(`<!-- token-service-settings:start -->\n${table}\n<!-- token-service-settings:end -->`);
  });

  it('documents every tessera token-service flag with its TESSERA_TS_ variable', () => {
    for (const s of TOKEN_SERVICE_SETTINGS) {
      const row = new RegExp(`\\|\\s*\`--${s.flag}\`\\s*\\|\\s*\`${tokenServiceEnvName(s.flag)}\`\\s*\\|`);
      expect(section, `--${s.flag}`).toMatch(row);
    }
  });

  it('lists every token-service error code with its status', () => {
    for (const [code, { status }] of Object.entries(TOKEN_SERVICE_ERRORS)) {
      expect(section, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });
});
