import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { isHighS } from '@tessera/core';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createSigningWorker, type SigningWorker, type SigningWorkerOptions } from '../../src/crypto/signing-worker.js';

// The issue path signs on worker threads through rings of slots in shared memory. Every caller must get the signature
// of its own input, whatever slot, thread or queue it went through.
describe('signing worker (ES256 on worker threads, shared-memory slots)', () => {
  const keyPair = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey };
  };
  const checks = (publicKey: KeyObject, input: string, signature: Uint8Array) =>
    verify('sha256', Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A worker with key `a` registered, closed after `run` whatever happens. */
  const withWorker = async (
    options: SigningWorkerOptions,
    run: (worker: SigningWorker, a: ReturnType<typeof keyPair>) => Promise<void>,
  ) => {
    const worker = createSigningWorker(options);
    const a = keyPair();
    worker.register('a', a.pem);
    try {
      await run(worker, a);
    } finally {
      await worker.close();
    }
  };

  /** Signs every input with key `a` at once; each signature must verify against its own input and no other. */
  const signsEachOwn = async (worker: SigningWorker, a: ReturnType<typeof keyPair>, inputs: string[]) => {
    const signatures = await Promise.all(inputs.map((input) => worker.sign('a', input)));
    signatures.forEach((signature, i) => {
      expect(signature.length).toBe(64);
      // Token contract version 2 (issue #16): low-S only, from the slots and from libuv's pool alike.
      expect(isHighS(signature)).toBe(false);
      expect(checks(a.publicKey, inputs[i] ?? '', signature)).toBe(true);
      expect(checks(a.publicKey, inputs[(i + 1) % inputs.length] ?? '', signature)).toBe(inputs.length === 1);
    });
  };

  it('200 signatures requested in one turn each verify against their own input', () =>
    withWorker({}, (worker, a) =>
      signsEachOwn(
        worker,
        a,
        Array.from({ length: 200 }, (_, i) => `header.payload-${i}`),
      ),
    ));

  it('interleaved keys (a rollover mid-turn) sign with the key each caller named', () =>
    withWorker({}, async (worker, a) => {
      const b = keyPair();
      worker.register('b', b.pem);
      const jobs = Array.from({ length: 30 }, (_, i) => ({ kid: i % 3 === 0 ? 'b' : 'a', input: `input-${i}` }));
      const signatures = await Promise.all(jobs.map((j) => worker.sign(j.kid, j.input)));
      jobs.forEach((job, i) => {
        const key = job.kid === 'a' ? a.publicKey : b.publicKey;
        expect(checks(key, job.input, signatures[i] ?? new Uint8Array())).toBe(true);
      });
    }));

  it('an unknown key id fails with ERR_INTERNAL, and the worker keeps serving', () =>
    withWorker({}, async (worker, a) => {
      await expect(worker.sign('nope', 'x')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
      expect(checks(a.publicKey, 'y', await worker.sign('a', 'y'))).toBe(true);
    }));

  it('close() rejects what is pending and later calls, never hangs', async () => {
    const worker = createSigningWorker();
    worker.register('a', keyPair().pem);
    const pending = expect(worker.sign('a', 'x')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    await worker.close();
    await pending;
    await expect(worker.sign('a', 'z')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });

  it('two threads: 200 signatures spread over both, each verifying against its own input', () =>
    withWorker({ threads: 2 }, async (worker, a) => {
      await signsEachOwn(
        worker,
        a,
        Array.from({ length: 200 }, (_, i) => `two-threads-${i}`),
      );
      expect(worker.threadsStarted()).toBe(2);
    }));

  it('one request at a time is served by one thread alone (the second starts only under load)', () =>
    withWorker({ threads: 2 }, async (worker, a) => {
      for (let i = 0; i < 5; i++) await signsEachOwn(worker, a, [`one-${i}`]);
      expect(worker.threadsStarted()).toBe(1);
    }));

  it('more signatures than slots wait in order and each still verifies (4 slots, 300 at once, rings wrap)', () =>
    withWorker({ slots: 4, threads: 2 }, (worker, a) =>
      signsEachOwn(
        worker,
        a,
        Array.from({ length: 300 }, (_, i) => `backlog-${i}`),
      ),
    ));

  it('an input longer than a slot (5,000 bytes) is signed too', () =>
    withWorker({}, (worker, a) => signsEachOwn(worker, a, ['L'.repeat(5000), 'short'])));

  it("libuv's pool path (inputs longer than a slot) emits low-S only: 64 signatures, none high", () =>
    withWorker({}, (worker, a) =>
      signsEachOwn(
        worker,
        a,
        Array.from({ length: 64 }, (_, i) => `${'L'.repeat(4100)}${i}`),
      ),
    ));

  it('a key the thread cannot import fails its signatures with ERR_INTERNAL; other keys keep working', () =>
    withWorker({}, async (worker, a) => {
      worker.register('broken', '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
      await expect(worker.sign('broken', 'x')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
      await signsEachOwn(worker, a, ['after']);
    }));

  it('a thread asleep after 50 ms idle is woken, and a re-registered kid signs with its new key', () =>
    withWorker({}, async (worker, a) => {
      await signsEachOwn(worker, a, ['first']);
      await pause(50); // past the light-sleep window: the thread waits to be woken
      await signsEachOwn(worker, a, ['second']);
      const b = keyPair();
      worker.register('a', b.pem);
      await pause(50);
      expect(checks(b.publicKey, 'third', await worker.sign('a', 'third'))).toBe(true);
      await pause(50); // close() must also end a thread in deep sleep
    }));

  // The crash and restart path: a thread that dies fails what it had in flight with ERR_INTERNAL, and the next
  // signature starts a new thread that has every key registered so far.
  describe('a thread that dies', () => {
    /** A worker whose started threads are recorded (onThreadStart), with keys `a` and `b` registered. */
    const crashable = (options: SigningWorkerOptions = {}) => {
      const started: Worker[] = [];
      const worker = createSigningWorker({ ...options, onThreadStart: (thread) => started.push(thread) });
      const a = keyPair();
      const b = keyPair();
      worker.register('a', a.pem);
      worker.register('b', b.pem);
      return { worker, started, a, b };
    };
    const exited = (thread: Worker) => new Promise((resolve) => thread.once('exit', resolve));

    it('before it signed anything: everything in flight fails with ERR_INTERNAL, a new thread signs with both keys', async () => {
      const { worker, started, a, b } = crashable();
      try {
        const inFlight = Array.from({ length: 10 }, (_, i) => worker.sign(i % 2 === 0 ? 'a' : 'b', `doomed-${i}`));
        const first = started[0] as Worker;
        expect(started).toHaveLength(1);
        const gone = exited(first);
        await first.terminate(); // the thread is still starting: it cannot have signed any of them
        await gone;
        const settled = await Promise.allSettled(inFlight);
        for (const result of settled) {
          expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INTERNAL' } });
        }
        expect(worker.pending()).toBe(0);
        expect(worker.threadsStarted()).toBe(0);

        expect(checks(a.publicKey, 'after-a', await worker.sign('a', 'after-a'))).toBe(true);
        expect(checks(b.publicKey, 'after-b', await worker.sign('b', 'after-b'))).toBe(true);
        expect(started).toHaveLength(2);
        expect(started[1]).not.toBe(first);
        expect(worker.threadsStarted()).toBe(1);
      } finally {
        await worker.close();
      }
    });

    it('after serving: a key registered before the crash is still served by the new thread', async () => {
      const { worker, started, a, b } = crashable();
      try {
        await signsEachOwn(worker, a, ['served']);
        const c = keyPair();
        worker.register('c', c.pem);
        const first = started[0] as Worker;
        const gone = exited(first);
        await first.terminate();
        await gone;
        expect(worker.threadsStarted()).toBe(0);
        for (const [kid, key] of [
          ['a', a],
          ['b', b],
          ['c', c],
        ] as const) {
          expect(checks(key.publicKey, `restarted-${kid}`, await worker.sign(kid, `restarted-${kid}`))).toBe(true);
        }
        expect(started).toHaveLength(2);
      } finally {
        await worker.close();
      }
    });

    it('with signatures queued beyond its slots: the queue is served by the new thread, never left hanging', async () => {
      const { worker, started, a } = crashable({ slots: 2 });
      try {
        const inFlight = Array.from({ length: 6 }, (_, i) => worker.sign('a', `queued-${i}`));
        const first = started[0] as Worker;
        const gone = exited(first);
        await first.terminate();
        await gone;
        const settled = await Promise.allSettled(inFlight);
        // The two in the dead thread's slots fail; the four that waited for a slot are signed by the new thread.
        expect(settled.slice(0, 2).map((result) => result.status)).toStrictEqual(['rejected', 'rejected']);
        settled.slice(2).forEach((result, i) => {
          if (result.status !== 'fulfilled')
            throw new Error(`queued-${i + 2} was not signed: ${String(result.reason)}`);
          expect(checks(a.publicKey, `queued-${i + 2}`, result.value)).toBe(true);
        });
        expect(started).toHaveLength(2);
      } finally {
        await worker.close();
      }
    });
  });
});
