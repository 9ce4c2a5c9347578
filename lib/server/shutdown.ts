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
