// docs/rooms.md against the code: its error table equals ROOMS_ERRORS row for row, and its sample script runs
// as printed against a real `tessera serve` and the Rooms plugin.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createNodeVerifier } from '@tessera/verifier/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOMS_ERRORS } from '../../src/rooms/rooms-errors.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';
import { type IdentityServer, type Plane, startIdentityServer, startPlane } from './rooms-helpers.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const DOC = readFileSync(join(REPO_ROOT, 'docs/rooms.md'), 'utf8');

function section(title: string): string {
  const start = DOC.indexOf(`## ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n## ', start + 4);
  return DOC.slice(start, end < 0 ? undefined : end);
}

describe('docs/rooms.md', () => {
  it('lists every ERR_ROOMS_* code with its status and ACS code, and nothing else', () => {
    const rows = new Map<string, { status: number; acsCode: string }>();
    for (const m of section('Errors').matchAll(/^\| `(ERR_ROOMS_[A-Z_]+)` \| (\d{3}) \| `(\w+)` \|/gm)) {
      rows.set(m[1] ?? '', { status: Number(m[2]), acsCode: m[3] ?? '' });
    }
    expect([...rows.keys()].sort()).toStrictEqual(Object.keys(ROOMS_ERRORS).sort());
    for (const [code, row] of Object.entries(ROOMS_ERRORS)) {
      expect(rows.get(code), code).toStrictEqual({ status: row.status, acsCode: row.acsCode });
    }
  });

  describe('the sample script', () => {
    let identity: IdentityServer;
    let verifier: ReturnType<typeof createNodeVerifier>;
    let plane: Plane;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-doc-'));
    const store = createSqliteRoomsStore({ path: join(dir, 'rooms.db') });

    beforeAll(async () => {
      identity = await startIdentityServer();
      verifier = createNodeVerifier({ connectionString: identity.verifierConnectionString });
      await verifier.ready();
      await store.migrate();
      plane = await startPlane({ identity, verifier, store, dir });
    }, 60_000);

    afterAll(async () => {
      await plane?.app.close();
      await store.close();
      await verifier?.close();
      await identity?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs as printed and prints what its comments say', async () => {
      const code = /```js\n([\s\S]*?)```/.exec(section('Sample'))?.[1] ?? '';
      expect(code).toContain('decisions:evaluate');
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          IDENTITY_CONNECTION_STRING: identity.connectionString,
          ROOMS_CONNECTION_STRING: plane.connectionString,
        },
        timeout: 30_000,
      });
      const lines = stdout.trim().split('\n');
      expect(lines.filter((l) => / (Presenter|Attendee)$/.test(l))).toHaveLength(2);
      expect(lines).toContain('join true ');
      expect(lines).toContain('shareScreen false room-role');
    });
  });
});
