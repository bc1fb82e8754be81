import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  readonly name: string;
  readonly type: string;
  readonly file?: { readonly name: string } | undefined;
  readonly tasks?: readonly TaskLike[] | undefined;
  readonly result?:
    | {
        readonly state?: string;
        readonly retryCount?: number;
        readonly errors?: readonly { readonly message?: string }[];
      }
    | undefined;
}

/** Every test that needed a retry (vitest `retry`), with the first error it met, so a retry never goes unseen. */
function retried(tasks: readonly TaskLike[], path: string[] = [], out: string[] = []): string[] {
  for (const t of tasks) {
    if (t.type === 'test' && (t.result?.retryCount ?? 0) > 0) {
      const first = t.result?.errors?.[0]?.message?.split('\n')[0] ?? '';
      out.push(
        `${t.file?.name ?? '?'} > ${[...path, t.name].join(' > ')}: ${t.result?.state} after ${t.result?.retryCount} retr${t.result?.retryCount === 1 ? 'y' : 'ies'}${first ? ` (${first})` : ''}`,
      );
    }
    if (t.tasks !== undefined) retried(t.tasks, t.type === 'suite' ? [...path, t.name] : path, out);
  }
  return out;
}

/**
 * Reports flaky tests: the suite retries a failed test once (vitest.config.ts) so one slow moment on a shared 2-vCPU
 * machine does not fail a whole run, and this reporter names each test that needed it ("RETRIED …" lines, which
 * `.ci/run` repeats in its summary) so the flake is fixed, not hidden.
 */
export default class RetryReporter implements Reporter {
  onFinished(files: readonly TaskLike[] = []): void {
    const lines = files.flatMap((file) => retried(file.tasks ?? []));
    if (lines.length === 0) return;
    process.stdout.write(`\n${lines.length} test(s) passed or failed only after a retry:\n`);
    for (const line of lines) process.stdout.write(`RETRIED ${line}\n`);
  }
}
