// Kysely dialect for embedded PGlite. PGlite is ONE Postgres session, so a
// "connection" here is exclusive use of that session: a lock per PGlite
// instance is held from acquireConnection to releaseConnection. The lock lives
// in a WeakMap keyed by the PGlite (not in the driver) because several Kysely
// instances (one per subgraph schema) share the same PGlite, and a transaction
// begun through one must never see statements of another.
import type { PGlite, Results } from '@electric-sql/pglite';
import {
  AbortedTransactionError,
  CompiledQuery,
  IdentifierNode,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  RawNode,
  createQueryId,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { rootLogger } from '../logging/logger.js';

export interface PGliteDialectConfig {
  /** Owned by the caller: destroying the Kysely instance does not close it. */
  pglite: PGlite;
  /**
   * Max wait for the session (default 30s). A query issued through another
   * Kysely instance while a transaction awaits it would otherwise hang forever
   * on PGlite (on Postgres it would simply use another pooled connection).
   */
  lockTimeoutMillis?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

export class PGliteDialect implements Dialect {
  readonly #config: PGliteDialectConfig;

  constructor(config: PGliteDialectConfig) {
    this.#config = config;
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#config);
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}

/** FIFO lock whose waiters give up after a timeout instead of waiting forever. */
class SessionLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  acquire(timeoutMillis: number): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(grant), 1);
        reject(
          new Error(
            `Timed out after ${timeoutMillis}ms waiting for the PGlite session: it is held by another ` +
              'query or transaction. A query awaited inside a transaction must use that transaction, not another Kysely instance.',
          ),
        );
      }, timeoutMillis);
      this.#waiters.push(grant);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next(); // ownership passes straight to the next waiter
    else this.#held = false;
  }
}

const sessionLocks = new WeakMap<PGlite, SessionLock>();

function sessionLockFor(pglite: PGlite): SessionLock {
  let lock = sessionLocks.get(pglite);
  if (!lock) {
    lock = new SessionLock();
    sessionLocks.set(pglite, lock);
  }
  return lock;
}

class PGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #lock: SessionLock;
  readonly #lockTimeoutMillis: number;
  // Only one holder of the session at a time, so one connection object suffices.
  readonly #connection: PGliteConnection;
  #destroyed = false;

  constructor(config: PGliteDialectConfig) {
    this.#pglite = config.pglite;
    this.#lock = sessionLockFor(config.pglite);
    this.#lockTimeoutMillis = config.lockTimeoutMillis ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.#connection = new PGliteConnection(config.pglite);
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#destroyed) throw new Error('driver has already been destroyed');
    await this.#lock.acquire(this.#lockTimeoutMillis);
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    try {
      // Never hand an open transaction to the next user of the session (e.g. a
      // raw `begin` inside db.connection() that was never committed).
      if (!this.#pglite.closed && this.#pglite.isInTransaction()) {
        rootLogger().warn('PGlite connection released inside an open transaction; rolling it back');
        await this.#pglite.exec('rollback');
      }
    } finally {
      this.#lock.release();
    }
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { rows } = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'));
    // Postgres answers COMMIT with ROLLBACK when an earlier error aborted the transaction.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointCommand('release', name), createQueryId()));
  }

  async destroy(): Promise<void> {
    // The PGlite instance is shared and owned by whoever created it.
    this.#destroyed = true;
  }
}

function savepointCommand(command: string, name: string): RawNode {
  // IdentifierNode makes the compiler quote the user-supplied name.
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

const DML_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    let result: Results<R> | undefined;
    try {
      // Like `pg`: without parameters use the simple protocol (which also allows
      // multi-statement SQL in migrations), otherwise the extended protocol.
      result =
        compiledQuery.parameters.length === 0
          ? ((await this.#pglite.exec(compiledQuery.sql)).at(-1) as Results<R> | undefined)
          : await this.#pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    } catch (err) {
      throw asDriverError(err);
    }
    const command = result?.command;
    if (command === 'COMMIT' || command === 'ROLLBACK') {
      return { rows: [{ command } as R] };
    }
    return {
      rows: result?.rows ?? [],
      numAffectedRows: command && DML_COMMANDS.has(command) ? BigInt(result?.affectedRows ?? 0) : undefined,
    };
  }

  // Deliberately unsupported: the Postgres side has no cursor configured
  // (pg-cursor is not installed), so .stream() must fail on both backends
  // rather than work in development and break in production.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries (cursor) are not supported; page with limit/offset instead.');
  }
}

/**
 * PGlite throws pg-protocol's DatabaseError, which already carries the same
 * fields as `pg`'s (code, constraint, detail, schema, table, ...), so callers'
 * `err.code === '23505'` checks work unchanged. We only drop what `pg` does not
 * attach (bound parameter values may be large or sensitive and end up in logs)
 * and append the caller's stack, as Kysely's Postgres driver does.
 */
function asDriverError(err: unknown): unknown {
  if (err instanceof Error) {
    const extra = err as Error & { params?: unknown; queryOptions?: unknown };
    delete extra.params;
    delete extra.queryOptions;
    const callerStack = new Error().stack?.split('\n').slice(1).join('\n');
    if (err.stack && callerStack) err.stack += `\n${callerStack}`;
  }
  return err;
}
