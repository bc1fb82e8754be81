// The suite's own set-up (issue 16): the browser tests find a Chromium with nothing installed beforehand, and
// say exactly what to do when none can be had.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium, launchTestChromium } from '../support/chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-chromium-selftest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('finding a Chromium for the browser tests', () => {
  it('TESSERA_CHROMIUM wins, and must name an executable file (else: what to do)', async () => {
    const fake = join(dir, 'my-chrome');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    const found = await findChromium({ env: { TESSERA_CHROMIUM: fake, PATH: '' }, systemPaths: ['/bin/sh'] });
    expect(found).toEqual({ executablePath: fake, source: 'TESSERA_CHROMIUM', env: {} });
    await expect(findChromium({ env: { TESSERA_CHROMIUM: join(dir, 'missing') } })).rejects.toThrow(
      /TESSERA_CHROMIUM=.*missing is not an executable file: install one \(`apt-get install -y chromium`/,
    );
  });

  it('takes the first system path, then a chromium on PATH', async () => {
    const onPath = join(dir, 'chromium');
    writeFileSync(onPath, '#!/bin/sh\n');
    chmodSync(onPath, 0o755);
    const first = await findChromium({ env: { PATH: dir }, systemPaths: [join(dir, 'nope'), '/bin/sh'] });
    expect(first).toEqual({ executablePath: '/bin/sh', source: 'system', env: {} });
    const second = await findChromium({ env: { PATH: `/nonexistent:${dir}` }, systemPaths: [] });
    expect(second.executablePath).toBe(onPath);
  });

  it('with none anywhere, fails (never skips) saying to apt-get install chromium or set TESSERA_CHROMIUM', async () => {
    await expect(findChromium({ env: { PATH: '' }, systemPaths: [], packaged: false })).rejects.toThrow(
      'no Chromium found (TESSERA_CHROMIUM unset, none installed, no packaged one): install one (`apt-get install -y chromium` on Debian/Ubuntu) or set TESSERA_CHROMIUM to a Chromium or Chrome executable',
    );
  });

  it('without a system Chromium, the one inside the @sparticuz/chromium npm tarball runs a page headless', async () => {
    const found = await findChromium({ env: { PATH: '' }, systemPaths: [] });
    expect(['playwright', '@sparticuz/chromium']).toContain(found.source);
    const browser = await chromium.launch({
      executablePath: found.executablePath,
      args: [...CHROMIUM_ARGS],
      env: { ...process.env, ...found.env },
    });
    try {
      const page = await browser.newPage();
      await page.setContent('<p id="p"></p><script>document.getElementById("p").textContent = 6 * 7</script>');
      expect(await page.textContent('#p')).toBe('42');
    } finally {
      await browser.close();
    }
  });

  it('launchTestChromium() starts whichever was found', async () => {
    const browser = await launchTestChromium();
    try {
      expect(browser.version()).toMatch(/^\d+\./);
    } finally {
      await browser.close();
    }
  });
});
