import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('AutoRefreshingTokenCredential lifecycle in a real Node process', () => {
  it('pain point: refresh lifecycle burden — a credential that is never disposed does not keep Node alive', () => {
    // Uses the built package, as an app would. The proactive timer is pending for ~50 minutes; the
    // process must still exit by itself once its work is done (Python's credential needed closing).
    const script = `
      import { AutoRefreshingTokenCredential } from '@tessera/client';
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const jwt = () => b64({ alg: 'ES256' }) + '.' + b64({ exp: Math.floor(Date.now() / 1000) + 3600 }) + '.c2ln';
      const credential = new AutoRefreshingTokenCredential({ tokenRefresher: async () => jwt() });
      const t = await credential.getToken();
      console.log(t.expiresOnTimestamp > Date.now() ? 'token ok' : 'bad');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      timeout: 20_000,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.signal).toBeNull(); // not killed by the timeout
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('token ok');
  });
});
