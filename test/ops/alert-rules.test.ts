// The shipped alert rules (ops/prometheus) are valid (promtool check rules) and each behaves as its unit test says
// (promtool test rules: fires past its threshold after its `for`, not before, not below) — and the unit tests can
// fail: the same tests against a rule file with a moved threshold do.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promtool } from './promtool.js';

const rulesDir = new URL('../../ops/prometheus/', import.meta.url).pathname;
const RULES = 'tessera-alerts.yml';
const TESTS = 'tessera-alerts.test.yml';

describe('ops/prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', RULES], rulesDir);
    expect(output).toContain('SUCCESS: 7 rules found');
    expect(status, output).toBe(0);
  });

  it('pass their promtool unit tests, one per alert', () => {
    const tests = readFileSync(join(rulesDir, TESTS), 'utf8');
    const rules = readFileSync(join(rulesDir, RULES), 'utf8');
    for (const alert of rules.matchAll(/- alert: (\w+)/g)) expect(tests).toContain(`alertname: ${alert[1]}`);
    const { status, output } = promtool(['test', 'rules', TESTS], rulesDir);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it.each([
    [
      'the warning threshold moved from 0.7 to 0.8',
      '(tessera_rate_limit_utilisation_ratio) >= 0.7',
      '(tessera_rate_limit_utilisation_ratio) >= 0.8',
    ],
    ['the store alert inverted', 'tessera_store_up == 0', 'tessera_store_up == 1'],
    ['the feed excluded from nothing', 'operation!="revocations.feed"', 'operation!="none"'],
  ])('the unit tests fail when %s', (_name, from, to) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-rules-'));
    try {
      const rules = readFileSync(join(rulesDir, RULES), 'utf8');
      expect(rules).toContain(from);
      writeFileSync(join(dir, RULES), rules.replace(from, to));
      copyFileSync(join(rulesDir, TESTS), join(dir, TESTS));
      const { status, output } = promtool(['test', 'rules', TESTS], dir);
      expect(status, output).not.toBe(0);
      expect(output).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
