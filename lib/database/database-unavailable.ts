// A lost or refused database connection, told apart from a bug so that clients get
// REGISTRY_UNAVAILABLE (lib/server/mask-errors.ts) instead of a crash or a generic error.

/**
 * NOT_APPLIED: the statement ran in a transaction the server rolled back, was a read, or never
 * reached the server. UNKNOWN: the connection was lost during a COMMIT or an autocommit write,
 * so the change may have been saved; the client must check before retrying.
 */
export type WriteOutcome = 'NOT_APPLIED' | 'UNKNOWN';

export class DatabaseUnavailableError extends Error {
  readonly outcome: WriteOutcome;

  constructor(message: string, outcome: WriteOutcome, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
    this.outcome = outcome;
  }

  /** What the client is told; the cause (host, SQL) goes to the log only. */
  get publicMessage(): string {
    return this.outcome === 'UNKNOWN'
      ? 'the connection to the database of this registry was lost while saving; the change may or may not have been saved, check before retrying'
      : 'the database of this registry is unavailable; nothing was saved, retry later';
  }
}

// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, crash, starting up).
const CONNECTION_SQLSTATE = /^(08|57P0[1-4])/;
const CONNECTION_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const CONNECTION_MESSAGE = /Connection terminated|not queryable|Client was closed|timeout exceeded when trying to connect/i;

/** True when `err` means the connection is gone (or never came), not that the statement was wrong. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || CONNECTION_ERRNO.has(code))) return true;
  return CONNECTION_MESSAGE.test(err.message);
}

/** Finds a DatabaseUnavailableError in an error's cause chain (GraphQL wraps resolver errors). */
export function findDatabaseUnavailable(err: unknown): DatabaseUnavailableError | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return e;
  }
  return undefined;
}
