// node:cluster wrapper: BENCH_WORKERS workers each call startServer from @tessera/server on the same
// port (the primary accepts and hands connections out round-robin — no proxy in the request path).
// Workers start one after the other so only the first one initialises the store. Prints
// "listening on <url>", "Connection string: <cs>", "pids: <primary>,<worker>,…". Stops on SIGTERM.
import cluster from 'node:cluster';
import { createServer } from 'node:net';

const workers = Number(process.env.BENCH_WORKERS ?? 1);

if (cluster.isPrimary) {
  const port = await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => resolve(p));
    });
  });
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let last;
  const pids = [process.pid];
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork({ BENCH_PORT: String(port) });
    last = await new Promise((resolve, reject) => {
      worker.once('message', (m) => (m.ok ? resolve(m) : reject(new Error(m.error))));
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    pids.push(worker.process.pid);
  }
  process.stdout.write(
    `listening on ${last.url}\nConnection string: ${last.connectionString}\npids: ${pids.join(',')}\n`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.send('stop');
    const force = setTimeout(() => process.exit(1), 8000);
    force.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { startServer } = await import('@tessera/server');
  try {
    const server = await startServer({
      host: '127.0.0.1',
      port: Number(process.env.BENCH_PORT),
      dataDir: process.env.BENCH_DATA_DIR,
      store: process.env.BENCH_STORE,
      masterKey: process.env.BENCH_MASTER_KEY,
      primaryKey: process.env.BENCH_PRIMARY_KEY,
      logLevel: 'silent',
      rateLimit: 'off', // measure the service, not the per-credential limiter
    });
    process.on('message', (m) => {
      if (m === 'stop')
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
    });
    process.on('SIGTERM', () => undefined); // the primary coordinates shutdown
    process.send({ ok: true, url: server.url, connectionString: server.connectionString });
  } catch (error) {
    process.send({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    process.exit(1);
  }
}
