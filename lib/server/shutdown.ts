/**
 * Stops services in order on SIGTERM/SIGINT (in-flight requests finish first, see RunningServer.stop)
 * and exits; a second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, log: (message: string) => void = console.log): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`${signal}: finishing in-flight requests, then stopping`);
    stop().then(
      () => process.exit(0),
      (error) => {
        console.error('error while stopping', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** For start-up steps a user can get wrong (an unreachable DATABASE_URL): the reason, no stack trace. */
export function exitOnFailure(what: string): (error: unknown) => never {
  return (error) => {
    console.error(`cannot ${what}: ${(error as Error).message}`);
    process.exit(1);
  };
}
