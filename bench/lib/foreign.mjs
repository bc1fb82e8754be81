// Runs a bench script owned by someone else (bench/verify.mjs, bench/jwt-algorithms.mjs) as a child process
// and picks up its JSON: stdout as a whole, else its last JSON line, else bench/results/<name>.json written
// during the run. Never edits or imports the script.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runToEnd } from './proc.mjs';

function lastJson(text) {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    // not one JSON document
  }
  const lines = trimmed.split('\n').reverse();
  for (const l of lines) {
    // A JSON line, or one prefixed by the script's name (`logging-cost {…}`).
    const t = l.trim().replace(/^[a-z][\w-]* (?=[{[])/, '');
    if (!t.startsWith('{') && !t.startsWith('[')) continue;
    try {
      return JSON.parse(t);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** @returns {Promise<{status: 'ok'|'pending'|'failed'|'timeout', reason?: string, seconds?: number, result?: unknown, stdoutTail?: string}>} */
export async function runForeign({ script, resultsDir, timeoutMs, cwd, env = {} }) {
  if (!existsSync(script)) return { status: 'pending', reason: `${basename(script)} is not there yet` };
  const name = basename(script, '.mjs');
  const resultFile = join(resultsDir, `${name}.json`);
  const started = Date.now();
  try {
    const { stdout } = await runToEnd({
      args: [script],
      cwd,
      timeoutMs,
      name,
      env: {
        BENCH_PARENT: 'run.mjs',
        BENCH_RESULTS_DIR: resultsDir,
        BENCH_BUDGET_MS: String(timeoutMs),
        BENCH_JSON: '1',
        ...env,
      },
    });
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    let result = lastJson(stdout);
    if (result === undefined && existsSync(resultFile) && statSync(resultFile).mtimeMs >= started) {
      result = JSON.parse(readFileSync(resultFile, 'utf8'));
    }
    if (result === undefined)
      return { status: 'failed', reason: 'printed no JSON', seconds, stdoutTail: stdout.slice(-1500) };
    return { status: 'ok', seconds, result };
  } catch (error) {
    const timedOut = /timed out/.test(error.message);
    return {
      status: timedOut ? 'timeout' : 'failed',
      reason: error.message.split('\n')[0],
      seconds: Math.round((Date.now() - started) / 100) / 10,
      stdoutTail: (error.stdout ?? '').slice(-1500) || undefined,
      stderrTail: (error.stderr ?? '').slice(-1500) || undefined,
    };
  }
}
