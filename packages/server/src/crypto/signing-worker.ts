import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { TesseraError, toLowS } from '@tessera/core';

/**
 * ES256 signing on worker threads, handed over in shared memory. The event loop is the issue path's bottleneck, and
 * on these 2-vCPU machines the dearest part of handing work to another thread is waking it: a `postMessage` to a
 * sleeping thread cost its sender 9–11 µs and a futex wake ~20 µs, against 0.8 µs for a message to a thread that is
 * awake (probe of 2026-12-02, bench/README.md); `postMessage` was 12 % of the event loop's profile. So nothing is
 * posted per signature. Each thread owns a ring of slots in SharedArrayBuffers: the event loop writes the signing
 * input into the next free slot and marks it; the thread signs it and marks it done; the event loop collects
 * finished slots once per loop turn while any are out. A thread that has just worked keeps looking every
 * {@link LIGHT_WAIT_MS} for {@link LIGHT_MS} before it sleeps until woken, so under load nobody pays for a wake-up;
 * a thread is woken only from that deep sleep, or when the loop has had nothing to do for {@link WAKE_AFTER_TURNS}
 * turns (low load, where the cost does not matter and a lone job should not wait for the next look). The event
 * loop, once it has found nothing for {@link IDLE_TURNS} turns, asks the threads for a message on the next finished
 * slot instead of polling. Measured against the batched `postMessage` hand-off it replaces: ×1.18 issues/s
 * (interleaved A/B), and a lower p50 at one and four connections (bench/low-load.mjs).
 */
export interface SigningWorker {
  /** Makes a private key (PKCS#8 PEM) available to the worker under `kid`. */
  register(kid: string, privateKeyPem: string): void;
  /** The raw (IEEE P1363, 64-byte) low-S ES256 signature of the ASCII `signingInput` with key `kid`. */
  sign(kid: string, signingInput: string): Promise<Uint8Array>;
  /** How many of the threads are running (they start on demand). */
  threadsStarted(): number;
  /** Signatures submitted and not yet finished (in slots or waiting for one): the metrics' queue depth. */
  pending(): number;
  /** Stops every thread; pending signatures are rejected. */
  close(): Promise<void>;
}

/** Options of {@link createSigningWorker}. */
export interface SigningWorkerOptions {
  /** Worker threads; each signature goes to the one with the fewest in flight (default 1). */
  readonly threads?: number;
  /** Slots per thread's ring (default 64); beyond them, signatures wait in a queue in order. */
  readonly slots?: number;
  /** Called with each thread as it starts (and restarts): a test seam to crash one; never on the signing path. */
  readonly onThreadStart?: ((worker: Worker) => void) | undefined;
}

// A slot's cells in `meta`: its state, the input's length, the key index (one spare).
const META = 4;
// Slot states (the first cell).
const FREE = 0;
const REQUESTED = 1;
const DONE = 2;
const FAILED = 3;
// `ctrl` cells.
const SEQ = 0; // bumped by the event loop after each slot it marks REQUESTED
const DEEP = 1; // 1 while the thread sleeps until woken
const STOP = 2; // 1: the thread exits
const LOOP_WAITS = 3; // 1: the event loop waits for a message on the next finished slot
/** Largest signing input a slot holds; a longer one is signed on libuv's pool instead (tokens are ~900 bytes). */
const SLOT_BYTES = 4096;
/**
 * How long a thread in light sleep waits before it looks for work again. Interleaved A/B (bench/ab-issue.mjs, six
 * pairs each): 1 ms ×1.21 over 0.05 ms (6 of 6 pairs: each timed wake-up costs CPU the event loop's vCPU shares);
 * 0.2, 0.5 and 1 ms equal within the noise. The added latency is at most this, only while work trickles in.
 */
const LIGHT_WAIT_MS = 0.5;
/** After this long without work, a thread sleeps until it is woken. */
const LIGHT_MS = 5;
/** Empty collection turns before the event loop stops polling and asks for a message. */
const IDLE_TURNS = 32;
/**
 * Turns with nothing submitted and nothing finished before the loop wakes a thread in light sleep: under load, new
 * jobs arrive every turn and this never happens; at low load it cuts a lone job's wait for the thread's next look.
 */
const WAKE_AFTER_TURNS = 3;

// The thread's code, evaluated as a CommonJS script (it works the same from src under a test runner and from dist).
// It runs one synchronous loop; keys arrive on a MessagePort read with receiveMessageOnPort.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort, parentPort } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const { ctrl: ctrlSab, meta: metaSab, data: dataSab, sigs: sigsSab, keyPort, slots, slotBytes, lightMs, lightWaitMs } = workerData;
const ctrl = new Int32Array(ctrlSab), meta = new Int32Array(metaSab);
const data = Buffer.from(dataSab), sigs = new Uint8Array(sigsSab);
const keys = [];
const readKeys = () => {
  for (let m = receiveMessageOnPort(keyPort); m !== undefined; m = receiveMessageOnPort(keyPort)) {
    try { keys[m.message.index] = { key: createPrivateKey(m.message.pem), dsaEncoding: 'ieee-p1363' }; }
    catch { keys[m.message.index] = null; }
  }
};
let next = 0;
let idleSince = 0; // when the ring last went empty; 0 while there is work
while (Atomics.load(ctrl, ${STOP}) === 0) {
  const at = next * ${META};
  if (Atomics.load(meta, at) === ${REQUESTED}) {
    if (keys[meta[at + 2]] === undefined) readKeys();
    const key = keys[meta[at + 2]];
    let state = ${FAILED};
    if (key) {
      try {
        sigs.set(sign('sha256', data.subarray(next * slotBytes, next * slotBytes + meta[at + 1]), key), next * 64);
        state = ${DONE};
      } catch {}
    }
    Atomics.store(meta, at, state);
    if (Atomics.load(ctrl, ${LOOP_WAITS}) === 1 && Atomics.exchange(ctrl, ${LOOP_WAITS}, 0) === 1) parentPort.postMessage(0);
    next = (next + 1) % slots;
    idleSince = 0;
    continue;
  }
  const seq = Atomics.load(ctrl, ${SEQ});
  if (Atomics.load(meta, at) === ${REQUESTED}) continue;
  if (idleSince === 0) idleSince = Date.now();
  if (Date.now() - idleSince < lightMs) {
    Atomics.wait(ctrl, ${SEQ}, seq, lightWaitMs);
  } else {
    Atomics.store(ctrl, ${DEEP}, 1);
    Atomics.wait(ctrl, ${SEQ}, seq);
    Atomics.store(ctrl, ${DEEP}, 0);
    idleSince = 0;
  }
}
`;

interface Waiter {
  resolve(signature: Uint8Array): void;
  reject(error: Error): void;
}

interface Queued extends Waiter {
  readonly keyIndex: number;
  readonly input: string;
}

interface Thread {
  worker: Worker | undefined;
  keyPort: MessagePort | undefined;
  readonly ctrl: Int32Array;
  readonly meta: Int32Array;
  readonly data: Buffer;
  readonly sigs: Uint8Array;
  readonly waiting: Array<Waiter | undefined>;
  /** Next slot to fill, next slot to collect, slots in flight. */
  head: number;
  tail: number;
  inFlight: number;
}

function signingFailed(): TesseraError {
  return new TesseraError('ERR_INTERNAL', 'Token signing failed.');
}

function newThread(slots: number): Thread {
  return {
    worker: undefined,
    keyPort: undefined,
    ctrl: new Int32Array(new SharedArrayBuffer(4 * 4)),
    meta: new Int32Array(new SharedArrayBuffer(4 * META * slots)),
    data: Buffer.from(new SharedArrayBuffer(SLOT_BYTES * slots)),
    sigs: new Uint8Array(new SharedArrayBuffer(64 * slots)),
    waiting: new Array<Waiter | undefined>(slots).fill(undefined),
    head: 0,
    tail: 0,
    inFlight: 0,
  };
}

/**
 * Starts the signing threads lazily, on the first signature; restarts one after a crash (what it had in flight fails
 * with ERR_INTERNAL). Signing inputs are ASCII (JWS signing inputs are); one longer than a slot (4 KiB) is signed on
 * libuv's pool instead.
 */
export function createSigningWorker(options: SigningWorkerOptions = {}): SigningWorker {
  const slots = Math.max(2, options.slots ?? 64);
  const pems: string[] = [];
  const kidIndex = new Map<string, number>();
  const poolKeys = new Map<number, KeyObject>(); // for inputs longer than a slot, imported on first need
  const threads: Thread[] = Array.from({ length: Math.max(1, options.threads ?? 1) }, () => newThread(slots));
  const backlog: Queued[] = [];
  let outstanding = 0;
  let polling = false;
  let idleTurns = 0;
  let closed = false;

  const failAll = (thread: Thread) => {
    for (let i = 0; i < slots; i++) {
      const waiter = thread.waiting[i];
      thread.waiting[i] = undefined;
      Atomics.store(thread.meta, META * i, FREE);
      if (waiter !== undefined) {
        outstanding--;
        waiter.reject(signingFailed());
      }
    }
    thread.head = 0;
    thread.tail = 0;
    thread.inFlight = 0;
  };

  const start = (thread: Thread): Worker => {
    thread.ctrl.fill(0);
    const { port1, port2 } = new MessageChannel();
    // Its heap holds nothing but keys, so it is bounded tightly: a runaway thread dies (and is restarted) instead of
    // growing. The thread itself costs ~10 MB RSS (an isolate).
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        ctrl: thread.ctrl.buffer,
        meta: thread.meta.buffer,
        data: thread.data.buffer,
        sigs: thread.sigs.buffer,
        keyPort: port2,
        slots,
        slotBytes: SLOT_BYTES,
        lightMs: LIGHT_MS,
        lightWaitMs: LIGHT_WAIT_MS,
      },
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 4 },
    });
    w.unref(); // never what keeps a process alive; the server's close() terminates it
    w.on('message', () => {
      collect();
      keepPolling();
    });
    const lost = () => {
      if (thread.worker !== w) return;
      thread.worker = undefined;
      thread.keyPort?.close();
      thread.keyPort = undefined;
      failAll(thread);
      // Signatures waiting for a slot go to a new thread now: the loop may have stopped polling (it waits for a
      // message that this thread will never send), and nothing else would hand them over.
      if (!closed && backlog.length > 0) {
        collect();
        keepPolling();
      }
    };
    w.on('error', lost);
    w.on('exit', lost);
    for (const [index, pem] of pems.entries()) port1.postMessage({ index, pem });
    thread.keyPort = port1;
    options.onThreadStart?.(w);
    return w;
  };

  // The thread with the fewest signatures in flight (the first on a tie, so one thread serves a light load alone).
  const leastBusy = (): Thread => {
    let best = threads[0] as Thread;
    for (const t of threads) if (t.inFlight < best.inFlight) best = t;
    return best;
  };

  const submit = (thread: Thread, job: Queued) => {
    thread.worker ??= start(thread);
    const slot = thread.head;
    thread.head = (slot + 1) % slots;
    thread.inFlight++;
    thread.waiting[slot] = job;
    const length = thread.data.write(job.input, slot * SLOT_BYTES, SLOT_BYTES, 'latin1');
    thread.meta[META * slot + 1] = length;
    thread.meta[META * slot + 2] = job.keyIndex;
    Atomics.store(thread.meta, META * slot, REQUESTED);
    Atomics.add(thread.ctrl, SEQ, 1);
    if (Atomics.load(thread.ctrl, DEEP) === 1) Atomics.notify(thread.ctrl, SEQ, 1);
  };

  /** Settles every finished slot in ring order, then fills freed slots from the backlog. */
  function collect(): number {
    let settled = 0;
    for (const thread of threads) {
      while (thread.inFlight > 0) {
        const slot = thread.tail;
        const state = Atomics.load(thread.meta, META * slot);
        if (state !== DONE && state !== FAILED) break;
        const waiter = thread.waiting[slot] as Waiter;
        thread.waiting[slot] = undefined;
        // Low-S on the copy (token contract version 2): a byte compare, and a 32-byte subtraction half the time.
        const signature = state === DONE ? toLowS(thread.sigs.slice(64 * slot, 64 * slot + 64)) : undefined;
        Atomics.store(thread.meta, META * slot, FREE);
        thread.tail = (slot + 1) % slots;
        thread.inFlight--;
        outstanding--;
        settled++;
        if (signature !== undefined) waiter.resolve(signature);
        else waiter.reject(signingFailed());
      }
    }
    while (backlog.length > 0) {
      const thread = leastBusy();
      if (thread.inFlight >= slots) break;
      submit(thread, backlog.shift() as Queued);
    }
    return settled;
  }

  const keepPolling = () => {
    idleTurns = 0;
    if (polling || outstanding === 0) return;
    polling = true;
    setImmediate(poll);
  };

  // Runs once per event-loop turn (setImmediate) while signatures are out. After IDLE_TURNS turns that found nothing,
  // it asks the threads for a message on their next finished slot and stops polling until then.
  const poll = () => {
    polling = false;
    if (collect() > 0) idleTurns = 0;
    else idleTurns++;
    if (outstanding === 0) return;
    // Nothing submitted or finished for a few turns: the loop has nothing else to do, so waking a thread in light
    // sleep costs nothing that matters, and the job need not wait out the thread's next look (low load's latency).
    if (idleTurns === WAKE_AFTER_TURNS) for (const t of threads) if (t.inFlight > 0) Atomics.notify(t.ctrl, SEQ, 1);
    if (idleTurns < IDLE_TURNS) {
      polling = true;
      setImmediate(poll);
      return;
    }
    for (const t of threads) if (t.inFlight > 0) Atomics.store(t.ctrl, LOOP_WAITS, 1);
    // A slot finished between the last look and the flag would send no message: look once more.
    if (collect() > 0) keepPolling();
  };

  const poolKey = (keyIndex: number): KeyObject => {
    let key = poolKeys.get(keyIndex);
    if (key === undefined) {
      key = createPrivateKey(pems[keyIndex] as string);
      poolKeys.set(keyIndex, key);
    }
    return key;
  };

  const signOnPool = (keyIndex: number, input: string): Promise<Uint8Array> => {
    const key = poolKey(keyIndex);
    return new Promise((resolve, reject) => {
      sign('sha256', Buffer.from(input, 'latin1'), { key, dsaEncoding: 'ieee-p1363' }, (error, signature) => {
        if (error) reject(signingFailed());
        else resolve(toLowS(signature));
      });
    });
  };

  return {
    register(kid, privateKeyPem) {
      const known = kidIndex.get(kid);
      if (known !== undefined && pems[known] === privateKeyPem) return;
      const index = pems.length;
      pems.push(privateKeyPem);
      kidIndex.set(kid, index);
      for (const t of threads) t.keyPort?.postMessage({ index, pem: privateKeyPem });
    },
    sign(kid, signingInput) {
      const keyIndex = kidIndex.get(kid);
      if (closed || keyIndex === undefined) return Promise.reject(signingFailed());
      if (signingInput.length > SLOT_BYTES) {
        try {
          return signOnPool(keyIndex, signingInput);
        } catch {
          return Promise.reject(signingFailed());
        }
      }
      return new Promise((resolve, reject) => {
        const job: Queued = { keyIndex, input: signingInput, resolve, reject };
        outstanding++;
        const thread = leastBusy();
        if (thread.inFlight < slots && backlog.length === 0) submit(thread, job);
        else backlog.push(job);
        keepPolling();
      });
    },
    threadsStarted() {
      return threads.filter((t) => t.worker !== undefined).length;
    },
    pending: () => outstanding,
    async close() {
      closed = true;
      const running: Worker[] = [];
      for (const t of threads) {
        if (t.worker !== undefined) running.push(t.worker);
        t.worker = undefined;
        t.keyPort?.close();
        t.keyPort = undefined;
        Atomics.store(t.ctrl, STOP, 1);
        Atomics.notify(t.ctrl, SEQ);
        failAll(t);
      }
      for (const job of backlog.splice(0)) {
        outstanding--;
        job.reject(signingFailed());
      }
      await Promise.all(running.map((w) => w.terminate()));
    },
  };
}
