import { GraphQLError } from 'graphql';
import { isConnectionError } from '../database/database-unavailable.js';
import type { Logger } from '../logging/logger.js';

/**
 * A programming error leaves the process in a state no one reasoned about: log it and exit so the
 * supervisor restarts a clean one. Anything else (a lost socket, a dependency's stray rejection)
 * is logged and survived: the requests it touched have already failed on their own.
 */
export function isProgrammingError(err: unknown): boolean {
  if (isConnectionError(err) || err instanceof GraphQLError) return false;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return false;
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError || err instanceof RangeError;
}

export interface ProcessGuard {
  /** Removes the listeners (tests). */
  remove(): void;
}

type StrayKind = 'unhandledRejection' | 'uncaughtException';

/** What the guard does with one stray error: log it, and exit only on a programming error. */
export function handleStrayError(log: Logger, exit: (code: number) => void, kind: StrayKind, err: unknown): void {
  if (isProgrammingError(err)) {
    log.fatal({ err, kind }, 'programming error: exiting so that a clean process is started');
    exit(1);
    return;
  }
  log.error({ err, kind }, 'unexpected error survived; the requests it concerned have failed');
}

/** Installs the process-level `unhandledRejection` / `uncaughtException` handlers, once per process. */
export function installProcessGuard(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): ProcessGuard {
  const onRejection = (err: unknown) => handleStrayError(log, exit, 'unhandledRejection', err);
  const onException = (err: unknown) => handleStrayError(log, exit, 'uncaughtException', err);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    remove() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
