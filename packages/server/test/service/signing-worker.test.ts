import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSigningWorker } from '../../src/crypto/signing-worker.js';

// The issue path signs on a worker thread in batches (one message per event-loop turn, at most maxBatch inputs).
// Every caller must get the signature of its own input, whatever batch it landed in.
describe('signing worker (batched ES256 on a worker thread)', () => {
  const keyPair = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey };
  };
  const checks = (publicKey: ReturnType<typeof keyPair>['publicKey'], input: string, signature: Uint8Array) =>
    verify('sha256', Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);

  it('200 signatures requested in one turn (25 batches of 8) each verify against their own input', async () => {
    const worker = createSigningWorker({ maxBatch: 8 });
    const a = keyPair();
    worker.register('a', a.pem);
    try {
      const inputs = Array.from({ length: 200 }, (_, i) => `header.payload-${i}`);
      const signatures = await Promise.all(inputs.map((input) => worker.sign('a', input)));
      signatures.forEach((signature, i) => {
        expect(signature.length).toBe(64);
        expect(checks(a.publicKey, inputs[i] ?? '', signature)).toBe(true);
        expect(checks(a.publicKey, inputs[(i + 1) % 200] ?? '', signature)).toBe(false);
      });
    } finally {
      await worker.close();
    }
  });

  it('interleaved keys (a rollover mid-turn) sign with the key each caller named', async () => {
    const worker = createSigningWorker({ maxBatch: 8 });
    const a = keyPair();
    const b = keyPair();
    worker.register('a', a.pem);
    worker.register('b', b.pem);
    try {
      const jobs = Array.from({ length: 30 }, (_, i) => ({ kid: i % 3 === 0 ? 'b' : 'a', input: `input-${i}` }));
      const signatures = await Promise.all(jobs.map((j) => worker.sign(j.kid, j.input)));
      jobs.forEach((job, i) => {
        const key = job.kid === 'a' ? a.publicKey : b.publicKey;
        expect(checks(key, job.input, signatures[i] ?? new Uint8Array())).toBe(true);
      });
    } finally {
      await worker.close();
    }
  });

  it('an unknown key id fails with ERR_INTERNAL, and the worker keeps serving', async () => {
    const worker = createSigningWorker({ maxBatch: 8 });
    const a = keyPair();
    worker.register('a', a.pem);
    try {
      await expect(worker.sign('nope', 'x')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
      expect(checks(a.publicKey, 'y', await worker.sign('a', 'y'))).toBe(true);
    } finally {
      await worker.close();
    }
  });

  it('close() rejects what is pending and later calls, never hangs', async () => {
    const worker = createSigningWorker({ maxBatch: 8 });
    worker.register('a', keyPair().pem);
    const pending = worker.sign('a', 'x');
    await worker.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    await expect(worker.sign('a', 'z')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });

  it('two threads: 200 signatures spread over both, each verifying against its own input; close rejects nothing signed', async () => {
    const worker = createSigningWorker({ maxBatch: 8, threads: 2 });
    const a = keyPair();
    worker.register('a', a.pem);
    try {
      const inputs = Array.from({ length: 200 }, (_, i) => `two-threads-${i}`);
      const signatures = await Promise.all(inputs.map((input) => worker.sign('a', input)));
      signatures.forEach((signature, i) => {
        expect(checks(a.publicKey, inputs[i] ?? '', signature)).toBe(true);
      });
      expect(worker.threadsStarted()).toBe(2);
    } finally {
      await worker.close();
    }
  });

  it('one request at a time is served by one thread alone (the second starts only under load)', async () => {
    const worker = createSigningWorker({ maxBatch: 8, threads: 2 });
    const a = keyPair();
    worker.register('a', a.pem);
    try {
      for (let i = 0; i < 5; i++)
        expect(checks(a.publicKey, `one-${i}`, await worker.sign('a', `one-${i}`))).toBe(true);
      expect(worker.threadsStarted()).toBe(1);
    } finally {
      await worker.close();
    }
  });
});
