import { Worker } from 'node:worker_threads';
import { TesseraError } from '@tessera/core';

/**
 * ES256 signing on worker threads, batched. The event loop is the issue path's bottleneck, and the per-call cost of
 * handing each signature to libuv's pool (a job object, a pool wake-up, a completion callback per token) is paid on
 * it. Here the signing inputs queued during one turn of the event loop travel to a thread in batches of up to
 * `maxBatch` per message, each to the least busy thread, and the signatures come back in one transferred buffer per
 * batch, so the loop pays one hand-off per batch, not per token. Measured with interleaved A/B runs (bench/README.md).
 */
export interface SigningWorker {
  /** Makes a private key (PKCS#8 PEM) available to the worker under `kid`. */
  register(kid: string, privateKeyPem: string): void;
  /** The raw (IEEE P1363, 64-byte) ES256 signature of the ASCII `signingInput` with key `kid`. */
  sign(kid: string, signingInput: string): Promise<Uint8Array>;
  /** How many of the threads are running (they start on demand). */
  threadsStarted(): number;
  /** Stops every thread; pending signatures are rejected. */
  close(): Promise<void>;
}

// The worker's code, evaluated as a CommonJS script (it works the same from src under a test runner and from dist).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'key') {
    keys.set(message.kid, { key: createPrivateKey(message.pem), dsaEncoding: 'ieee-p1363' });
    return;
  }
  const key = keys.get(message.kid);
  const out = new Uint8Array(64 * message.inputs.length);
  let ok = key !== undefined;
  for (let i = 0; ok && i < message.inputs.length; i++) {
    try {
      out.set(sign('sha256', Buffer.from(message.inputs[i], 'latin1'), key), 64 * i);
    } catch {
      ok = false;
    }
  }
  parentPort.postMessage({ id: message.id, ok, signatures: out }, [out.buffer]);
});
`;

interface Batch {
  readonly kid: string;
  readonly inputs: string[];
  readonly waiting: Array<{ resolve: (signature: Uint8Array) => void; reject: (error: Error) => void }>;
}

interface WorkerReply {
  readonly id: number;
  readonly ok: boolean;
  readonly signatures: Uint8Array;
}

function signingFailed(): TesseraError {
  return new TesseraError('ERR_INTERNAL', 'Token signing failed.');
}

/** Options of {@link createSigningWorker}. */
export interface SigningWorkerOptions {
  /** Most inputs per message (default 8). */
  readonly maxBatch?: number;
  /** Worker threads; each batch goes to the one with the fewest batches in flight (default 1). */
  readonly threads?: number;
}

interface Thread {
  worker: Worker | undefined;
  readonly inFlight: Map<number, Batch>;
}

/**
 * Starts the signing threads lazily, on the first signature; restarts one after a crash. A batch is sent at the end
 * of the event-loop turn or when it holds `maxBatch` inputs: small batches come back while the loop goes on, where
 * one large batch per turn made the loop wait for the worker (measured: 8 → +22 % issues/s over the thread pool,
 * unbounded → −25 %).
 */
export function createSigningWorker(options: SigningWorkerOptions = {}): SigningWorker {
  const maxBatch = options.maxBatch ?? 8;
  const pems = new Map<string, string>();
  const threads: Thread[] = Array.from({ length: Math.max(1, options.threads ?? 1) }, () => ({
    worker: undefined,
    inFlight: new Map<number, Batch>(),
  }));
  let open: Batch | undefined;
  let nextId = 0;
  let closed = false;

  const failAll = (thread: Thread) => {
    for (const batch of thread.inFlight.values()) for (const w of batch.waiting) w.reject(signingFailed());
    thread.inFlight.clear();
  };

  const start = (thread: Thread): Worker => {
    // Its heap holds one batch at a time, so it is bounded tightly: a runaway worker dies (and is restarted)
    // instead of growing. The thread itself costs ~10 MB RSS (an isolate).
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 4 },
    });
    w.unref(); // never what keeps a process alive; the server's close() terminates it
    w.on('message', (reply: WorkerReply) => {
      const batch = thread.inFlight.get(reply.id);
      if (batch === undefined) return;
      thread.inFlight.delete(reply.id);
      batch.waiting.forEach((waiter, i) => {
        if (reply.ok) waiter.resolve(reply.signatures.subarray(64 * i, 64 * i + 64));
        else waiter.reject(signingFailed());
      });
    });
    const lost = () => {
      if (thread.worker === w) thread.worker = undefined;
      failAll(thread);
    };
    w.on('error', lost);
    w.on('exit', lost);
    for (const [kid, pem] of pems) w.postMessage({ type: 'key', kid, pem });
    return w;
  };

  // The thread with the fewest batches in flight (the first on a tie, so one thread serves a light load alone).
  const leastBusy = (): Thread => {
    let best = threads[0] as Thread;
    for (const t of threads) if (t.inFlight.size < best.inFlight.size) best = t;
    return best;
  };

  const flush = () => {
    const batch = open;
    open = undefined;
    if (batch === undefined) return;
    if (closed) {
      for (const w of batch.waiting) w.reject(signingFailed());
      return;
    }
    const thread = leastBusy();
    thread.worker ??= start(thread);
    const id = nextId++;
    thread.inFlight.set(id, batch);
    thread.worker.postMessage({ type: 'sign', id, kid: batch.kid, inputs: batch.inputs });
  };

  return {
    register(kid, privateKeyPem) {
      pems.set(kid, privateKeyPem);
      for (const t of threads) t.worker?.postMessage({ type: 'key', kid, pem: privateKeyPem });
    },
    sign(kid, signingInput) {
      return new Promise((resolve, reject) => {
        if (open !== undefined && open.kid !== kid) flush();
        if (open === undefined) {
          open = { kid, inputs: [], waiting: [] };
          // After this turn's I/O callbacks: every request parsed in this turn joins the batch.
          setImmediate(flush);
        }
        open.inputs.push(signingInput);
        open.waiting.push({ resolve, reject });
        if (open.inputs.length >= maxBatch) flush(); // small batches stream back while the loop goes on
      });
    },
    threadsStarted() {
      return threads.filter((t) => t.worker !== undefined).length;
    },
    async close() {
      closed = true;
      flush();
      const running: Worker[] = [];
      for (const t of threads) {
        if (t.worker !== undefined) running.push(t.worker);
        t.worker = undefined;
        failAll(t);
      }
      await Promise.all(running.map((w) => w.terminate()));
    },
  };
}
