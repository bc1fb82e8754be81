// Memory per process at 1M identities (issue 7 target: under 150 MB).
// 1. First start on a fresh SQLite data dir creates the resource; 2. one million identities are bulk-loaded
// straight into the database (time-ordered ids, as the server makes them); 3. the server starts again and
// issues tokens for 200k distinct identities under load (every one a first sight: the identity cache fills to
// its bound); 4. RSS and peak RSS of the server process are read from /proc.
// Usage: node bench/memory-identities.mjs [identities=1000000] [distinct=200000]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { formatRawId, uuidV7 } from '@tessera/core';
import { loadOnce } from './lib/load.mjs';
import { machineInfo } from './lib/machine.mjs';
import { presign } from './lib/signed-requests.mjs';
import { createIdentity, ISSUE_BODY, issuePath, repoRoot, startCliServer } from './lib/tessera.mjs';
import { table } from './lib/table.mjs';

const total = Number(process.argv[2] ?? 1_000_000);
const distinct = Number(process.argv[3] ?? 200_000);

function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
}

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-mem-'));
try {
  let server = await startCliServer({ dataDir });
  const resourceId = /8:acs:([0-9a-f-]{36})_/.exec(await createIdentity(server.connectionString))?.[1];
  await server.stop();
  if (resourceId === undefined) throw new Error('could not learn the resource id');

  const t0 = performance.now();
  const db = new Database(join(dataDir, 'tessera.db'));
  db.pragma('journal_mode = WAL');
  const insert = db.prepare('INSERT INTO identities (id, custom_id, created_at) VALUES (?, NULL, ?)');
  const ids = [];
  const now = Date.now();
  const batch = db.transaction((n, offset) => {
    for (let i = 0; i < n; i++) {
      const id = formatRawId(resourceId, uuidV7(now + offset + i, randomBytes(10)));
      insert.run(id, now);
      if (ids.length < distinct && (offset + i) % Math.max(1, Math.floor(total / distinct)) === 0) ids.push(id);
    }
  });
  for (let done = 0; done < total; done += 50_000) batch(Math.min(50_000, total - done), done);
  db.close();
  const loadSeconds = (performance.now() - t0) / 1000;

  server = await startCliServer({ dataDir, extraArgs: ['--print-connection-strings'] }); // a restart: asked to print
  const pid = server.pids[0];
  const idle = memoryOf(pid);
  const requests = [];
  for (const id of ids) {
    requests.push(
      ...presign({
        connectionString: server.connectionString,
        method: 'POST',
        path: issuePath(id),
        body: ISSUE_BODY,
        count: 1,
      }),
    );
  }
  const run = await loadOnce({ url: server.url, requests, connections: 50, durationS: 20, serverPids: [pid] });
  const loaded = memoryOf(pid);
  await server.stop();

  const result = {
    machine: machineInfo(),
    identities: total,
    distinctIdentitiesIssued: ids.length,
    bulkLoadSeconds: Math.round(loadSeconds * 10) / 10,
    idleRssMb: idle.rssMb,
    afterLoadRssMb: loaded.rssMb,
    peakRssMb: loaded.peakRssMb,
    issueRps: run.rps,
    requests: run.requests,
    non2xx: run.non2xx,
    targetMb: 150,
  };
  console.log(
    table(
      ['identities', 'distinct issued', 'idle RSS MB', 'RSS after load MB', 'peak RSS MB', 'issue rps', 'target'],
      [[total, ids.length, idle.rssMb, loaded.rssMb, loaded.peakRssMb, run.rps, '< 150 MB']],
    ),
  );
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench/results/memory.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
