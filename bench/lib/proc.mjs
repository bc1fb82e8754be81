// Child-process helpers: start a server process, wait for its "ready" line, stop it by pid.
import { spawn } from 'node:child_process';

/** Every child this process started and has not yet seen exit; stopped on exit of the runner. */
const live = new Set();

/**
 * Spawns a long-running child and resolves once `ready` matches its stdout (accumulated).
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, pid: number, match: RegExpMatchArray, output: () => string, stop: () => Promise<void> }>}
 */
export function startProcess({ command = process.execPath, args, env, cwd, ready, timeoutMs = 30_000, name }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let out = '';
    let err = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${name}: not ready after ${timeoutMs} ms`)), timeoutMs);
    const fail = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop().finally(() =>
        reject(new Error(`${error.message}\n--- stderr ---\n${err.slice(-2000)}\n--- stdout ---\n${out.slice(-1000)}`)),
      );
    };
    const stop = () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      });
    child.stdout.on('data', (d) => {
      out += d;
      if (settled) return;
      const match = out.match(ready);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, pid: child.pid, match, output: () => out, stop });
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      fail(new Error(`${name}: exited early (code ${code}, signal ${signal})`));
    });
    child.on('error', fail);
  });
}

/**
 * Runs a child to completion and returns its stdout/stderr; rejects on a non-zero exit or timeout.
 */
export function runToEnd({ command = process.execPath, args, env, cwd, timeoutMs = 120_000, name, onSpawn }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    onSpawn?.(child);
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (timedOut)
        reject(Object.assign(new Error(`${name}: timed out after ${timeoutMs} ms`), { stdout: out, stderr: err }));
      else if (code !== 0)
        reject(
          Object.assign(new Error(`${name}: exit code ${code ?? signal}\n${err.slice(-1500)}`), {
            stdout: out,
            stderr: err,
          }),
        );
      else resolve({ stdout: out, stderr: err, pid: child.pid });
    });
  });
}

/** SIGKILLs every child still running (used on abnormal exit of the runner). */
export function killAllStarted() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
