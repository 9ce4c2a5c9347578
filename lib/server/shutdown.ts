import { rootLogger } from '../logging/logger.js';

/**
 * Stops services in order on SIGTERM/SIGINT (in-flight requests finish first, see RunningServer.stop)
 * and exits 0; a second signal exits at once. A process forked by the launcher also stops when the
 * launcher's IPC channel goes away (the launcher was killed), so it never outlives it.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  const log = rootLogger();
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: finishing in-flight requests, then stopping`);
    stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (process.connected) process.once('disconnect', () => !stopping && onSignal('launcher gone'));
}

/** For start-up steps a user can get wrong (an unreachable DATABASE_URL): the reason, no stack trace. */
export function exitOnFailure(what: string): (error: unknown) => never {
  return (error) => {
    rootLogger().fatal(`cannot ${what}: ${(error as Error).message}`);
    process.exit(1);
  };
}
