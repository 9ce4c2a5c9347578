import { rootLogger } from '../logging/logger.js';

/** Exit statuses a supervisor can tell apart: drained cleanly, cut at the deadline, forced or failed. */
export const EXIT_CODES = { clean: 0, failed: 1, drainDeadline: 3, forced: 4 } as const;

/** How long a stop may take before the requests still running are cut (STOP_TIMEOUT_MS, default 20 s). */
export const DEFAULT_STOP_TIMEOUT_MS = 20_000;

export function stopTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.STOP_TIMEOUT_MS?.trim();
  if (!raw) return DEFAULT_STOP_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1 || ms > 600_000) throw new Error(`STOP_TIMEOUT_MS must be a whole number of milliseconds from 1 to 600000, not "${raw}"`);
  return ms;
}

/**
 * The one signal owner of a process (Apollo's own handlers are off). On SIGTERM/SIGINT: stop accepting,
 * finish in-flight requests (see RunningServer.stop), close the rest in the order `stop` gives, exit 0.
 * If that takes longer than the deadline the process exits with 3 (requests cut); a second signal exits
 * with 4 at once. A process forked by the launcher also stops when the launcher's IPC channel goes away
 * (the launcher was killed), so it never outlives it.
 */
export function stopOnSignals(stop: () => Promise<void>, options: { timeoutMs?: number } = {}): void {
  const log = rootLogger();
  const timeoutMs = options.timeoutMs ?? stopTimeoutFromEnv();
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting (exit ${EXIT_CODES.forced})`);
      process.exit(EXIT_CODES.forced);
    }
    stopping = true;
    const started = performance.now();
    log.info(`${signal}: finishing in-flight requests, then stopping (at most ${timeoutMs} ms)`);
    const deadline = setTimeout(() => {
      log.error(`stop took longer than ${timeoutMs} ms (STOP_TIMEOUT_MS): cutting the requests still running (exit ${EXIT_CODES.drainDeadline})`);
      process.exit(EXIT_CODES.drainDeadline);
    }, timeoutMs);
    deadline.unref();
    stop().then(
      () => {
        log.info({ drainMs: Math.round(performance.now() - started) }, `stopped cleanly (exit ${EXIT_CODES.clean})`);
        process.exit(EXIT_CODES.clean);
      },
      (error) => {
        log.error({ err: error }, `error while stopping (exit ${EXIT_CODES.failed})`);
        process.exit(EXIT_CODES.failed);
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
