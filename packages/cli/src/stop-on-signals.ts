/**
 * Graceful shutdown of a long-running command: on SIGINT or SIGTERM, says so, awaits `close` (drains in-flight
 * requests), prints "Stopped." and exits 0; exits 1 if closing fails or takes longer than 10 s.
 */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Received ${signal}, draining in-flight requests…\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    close().then(
      () => {
        process.stdout.write('Stopped.\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
