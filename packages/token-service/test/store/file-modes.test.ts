// Issue #16, files at rest: the token service's SQLite database (users, sessions, the encrypted token cache) and its
// folder were created 0644 / 0755 under the usual umask; now 0600 (with -wal and -shm) and 0700.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openTokenServiceStore } from '../../src/store/token-service-store.js';

it('a new token-service database is 0600 with its -wal and -shm, in a new folder of mode 0700 (umask 022)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-ts-modes-'));
  const previous = process.umask(0o022);
  try {
    const dir = join(root, 'data');
    const path = join(dir, 'token-service.db');
    const store = openTokenServiceStore(path);
    try {
      const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
      expect(mode(dir)).toBe('700');
      for (const f of [path, `${path}-wal`, `${path}-shm`]) {
        expect(existsSync(f), f).toBe(true);
        expect(mode(f), f).toBe('600');
      }
    } finally {
      await store.close();
    }
  } finally {
    process.umask(previous);
    rmSync(root, { recursive: true, force: true });
  }
});
