import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Options of {@link startSqliteCheckpointer}. */
export interface SqliteCheckpointerOptions {
  /** The database file (WAL mode, already created by the writer's connection). */
  readonly path: string;
  /** How often the thread checkpoints (PRAGMA wal_checkpoint(PASSIVE)); default 100 ms. */
  readonly intervalMs?: number | undefined;
  /** After each pass: the WAL's frames and how many of them are in the database file now. */
  readonly onPass: (pass: { readonly frames: number; readonly checkpointed: number }) => void;
  /** The thread failed or exited: the writer must checkpoint by itself again. Called at most once. */
  readonly onFailure: (error: Error) => void;
}

/** A running checkpointer; `close()` stops its thread. */
export interface SqliteCheckpointer {
  close(): Promise<void>;
}

// The thread's code (CommonJS, evaluated): its own connection to the file, a PASSIVE checkpoint per interval (it
// never waits for the writer and the writer never waits for it), the result posted back. The checkpoint's two fsyncs
// (the WAL before copying, the database file after) block this thread, not the event loop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  const row = checkpoint.get();
  parentPort.postMessage({ frames: row.log, checkpointed: row.checkpointed });
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a SQLite database's WAL on a thread of its own. The writer (the chat store's connection, on the event
 * loop) turns its automatic checkpoints off: SQLite runs them inside the COMMIT that crosses 1,000 WAL pages, so one
 * write batch in a few hundred copied the pages back and waited for two fsyncs on the event loop (a tenth of a send's
 * cost at 50 connections, bench/chat.mjs). A PASSIVE checkpoint cannot always finish while the writer keeps writing,
 * so the WAL can still grow; `onPass` reports it and the writer checkpoints the rest itself past a bound.
 */
export function startSqliteCheckpointer(options: SqliteCheckpointerOptions): SqliteCheckpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path: options.path,
      intervalMs: options.intervalMs ?? 100,
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
    },
    // Its heap holds one connection and a timer.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  // Never what keeps a process alive: the store's close() stops it, and an exiting process takes it along.
  worker.unref();
  let closing = false;
  let failed = false;
  const fail = (error: Error) => {
    if (failed || closing) return;
    failed = true;
    options.onFailure(error);
  };
  worker.on('message', (pass: { frames: number; checkpointed: number }) => options.onPass(pass));
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the checkpoint thread exited (code ${code})`)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async close() {
      if (closing) return exited;
      closing = true;
      if (failed) return;
      worker.postMessage('close');
      await exited;
    },
  };
}
