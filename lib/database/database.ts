// The one place that knows whether we run on embedded PGlite or a Postgres
// server. Everything else gets schema-scoped Kysely instances and the same
// JS types back from both.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Dialect, type LogEvent, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { rootLogger } from '../logging/logger.js';
import { PGliteDialect } from './pglite-dialect.js';
import { instrumentDialect, observeStatement } from '../metrics/database-metrics.js';
import { recordStatementSpan, tracingEnabled } from '../telemetry/tracing.js';
import { DatabaseUnavailableError, isConnectionError, type WriteOutcome } from './database-unavailable.js';

/** `url` = Postgres connection string; else PGlite at `dataDir`, or in memory when omitted. */
export interface DatabaseConfig {
  url?: string;
  dataDir?: string;
}

export interface StatementEvent {
  schema: string;
  sql: string;
  durationMs: number;
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** Kysely scoped to one Postgres schema (Kysely.withSchema), with every executed statement reported to the listeners. */
  forSchema<DB>(schema: string): Kysely<DB>;
  /** Subscribe to executed statements (tests count them); returns an unsubscribe function. */
  onStatement(listener: (event: StatementEvent) => void): () => void;
  /** Cheap readiness probe: `select 1`, rejects with a clear error when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5_000; // pg otherwise waits forever for a connection
const STATEMENT_TIMEOUT_MS = 15_000;
const DEFAULT_POOL_MAX = 10;

/** DATABASE_URL wins; else DATA_DIR, else `defaults.dataDir`; neither means in-memory PGlite. */
export function databaseConfigFromEnv(env: NodeJS.ProcessEnv, defaults: { dataDir?: string }): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (url) return { url };
  const dataDir = env.DATA_DIR?.trim() || defaults.dataDir;
  return dataDir ? { dataDir } : {};
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.url ? openPostgres(config.url) : openPGlite(config.dataDir);
}

// ---------------------------------------------------------------------------
// Type parsing. `pg` returns int8 as string and PGlite as number; PGlite parses
// dates with `new Date(text)` (a `date` becomes UTC midnight, pg's local
// midnight). We give both pg's parsers, with one int8 rule: a number when it
// is a safe integer (counts, ids), a bigint otherwise (never silently rounded).

const OID = { int8: 20, int8Array: 1016, textArray: 1009 } as const;

function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

type TextParser = (text: string) => unknown;
// pg's typings only accept its TypeId enum, which lacks array OIDs.
type PgTypeId = Parameters<typeof pg.types.getTypeParser>[0];
const pgTextParser = (oid: number): TextParser => pg.types.getTypeParser(oid as PgTypeId, 'text');

const parseTextArray = pgTextParser(OID.textArray) as (text: string) => unknown[];
const mapInt8 = (v: unknown): unknown => (Array.isArray(v) ? v.map(mapInt8) : v === null ? null : parseInt8(String(v)));

const textParserOverrides: Record<number, TextParser> = {
  [OID.int8]: parseInt8,
  [OID.int8Array]: (text) => parseTextArray(text).map(mapInt8),
};

function textParser(oid: number): TextParser {
  return textParserOverrides[oid] ?? pgTextParser(oid);
}

/** Scalar types PGlite parses itself (arrays of them follow, PGlite reuses the element parser). */
const PGLITE_ALIGNED_OIDS = [
  16, // bool
  17, // bytea -> Buffer
  20, // int8
  21, // int2
  23, // int4
  26, // oid
  114, // json
  700, // float4
  701, // float8
  1082, // date
  1114, // timestamp
  1184, // timestamptz
  1186, // interval
  3802, // jsonb
];

// ---------------------------------------------------------------------------

/** A connection failure whose message already names the server; nothing reached the database. */
class UnreachableError extends DatabaseUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'NOT_APPLIED', options);
  }
}

/** Statement listeners plus the Kysely factory shared by both backends. */
class DatabaseBase implements Database {
  readonly kind: 'pglite' | 'postgres';
  readonly #listeners = new Set<(event: StatementEvent) => void>();
  readonly #createDialect: () => Dialect;
  readonly #release: () => Promise<void>;
  readonly #internal: Kysely<any>; // unlogged, for ping()
  readonly #describe: string;
  /** The database as trace spans name it (`db.namespace`): the Postgres database, or "pglite". */
  readonly #namespace: string;
  #closing: Promise<void> | undefined;

  constructor(kind: 'pglite' | 'postgres', describe: string, createDialect: () => Dialect, release: () => Promise<void>, namespace: string = kind) {
    this.kind = kind;
    this.#describe = describe;
    this.#namespace = namespace;
    this.#createDialect = createDialect;
    this.#release = release;
    this.#internal = new Kysely({ dialect: createDialect() });
  }

  forSchema<DB>(schema: string): Kysely<DB> {
    if (this.#closing) throw new Error(`${this.#describe} is closed`);
    if (!schema) throw new Error('forSchema needs a schema name');
    // A fresh Kysely per call is cheap: its dialect only wraps the shared
    // pool / PGlite, and destroying it leaves those untouched.
    const traced = tracingEnabled() ? { system: 'postgresql' as const, namespace: this.#namespace, schema } : undefined;
    return new Kysely<DB>({
      dialect: instrumentDialect(this.#createDialect()),
      log: (event: LogEvent) => {
        observeStatement(event.query.sql, event.queryDurationMillis, event.level === 'query' ? 'ok' : 'error');
        if (traced) recordStatementSpan({ sql: event.query.sql, durationMs: event.queryDurationMillis, error: event.level === 'error' ? event.error : undefined }, traced);
        if (event.level === 'query') {
          this.#emit({ schema, sql: event.query.sql, durationMs: event.queryDurationMillis });
        }
      },
    }).withSchema(schema);
  }

  onStatement(listener: (event: StatementEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#internal);
    } catch (err) {
      if (err instanceof UnreachableError) throw err;
      throw new Error(`${this.#describe} is not ready: ${errorText(err)}`, { cause: err });
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#internal.destroy();
      await this.#release();
    })();
    return this.#closing;
  }

  #emit(event: StatementEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        // A broken listener must not fail the query that triggered it.
        rootLogger().error({ err }, 'database statement listener threw');
      }
    }
  }
}

// --- PGlite -----------------------------------------------------------------

// A PGlite data dir can be opened by one instance only; fail clearly instead
// of corrupting it when a second Database is opened on it in this process.
const openDataDirs = new Set<string>();

async function openPGlite(dataDir: string | undefined): Promise<Database> {
  const dir = dataDir ? resolve(dataDir) : undefined;
  if (dir) {
    if (openDataDirs.has(dir)) {
      throw new Error(`PGlite data dir ${dir} is already open in this process; open one Database and share it`);
    }
    await mkdir(dir, { recursive: true });
    openDataDirs.add(dir);
  }
  const parsers = Object.fromEntries(PGLITE_ALIGNED_OIDS.map((oid) => [oid, textParser(oid)]));
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({ dataDir: dir, parsers });
  } catch (err) {
    if (dir) openDataDirs.delete(dir);
    throw new Error(`Cannot open PGlite at ${dir ?? 'memory'}: ${errorText(err)}`, { cause: err });
  }
  return new DatabaseBase(
    'pglite',
    `PGlite (${dir ?? 'in memory'})`,
    () => new PGliteDialect({ pglite }),
    async () => {
      try {
        await pglite.close();
      } finally {
        if (dir) openDataDirs.delete(dir);
      }
    },
  );
}

// --- Postgres ---------------------------------------------------------------

async function openPostgres(url: string): Promise<Database> {
  const describe = `Postgres at ${describeUrl(url)}`;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMaxFromEnv(),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        format === 'binary'
          ? pg.types.getTypeParser(oid as PgTypeId, format)
          : textParser(oid)) as typeof pg.types.getTypeParser,
    },
  });
  // Without listeners a client's 'error' (server restart, network drop) is an unhandled 'error'
  // event and crashes the process: the pool's covers idle clients, the one added on 'connect'
  // covers checked-out ones. Either way pg marks the client unusable and the pool drops it on
  // release, so the next checkout opens a fresh connection: the pool recovers by itself.
  pool.on('error', () => {}); // idle clients: logged by their own listener below
  pool.on('connect', (client) => {
    client.on('error', (err) => rootLogger().warn({ err, database: describe }, 'database connection lost'));
  });

  // Handed to every forSchema Kysely: they share the pool, and their
  // destroy() must not end it (close() does, once).
  const sharedPool = {
    connect: async () => {
      try {
        return trackedClient(await pool.connect(), describe);
      } catch (err) {
        // Used after close(): our own mistake (a request outliving its node), not an outage.
        if (pool.ending) throw new Error(`${describe} is closed`, { cause: err });
        throw new UnreachableError(`Cannot connect to ${describe}: ${errorText(err)}`, { cause: err });
      }
    },
    end: async () => {},
  };

  const database = new DatabaseBase(
    'postgres',
    describe,
    () => new PostgresDialect({ pool: sharedPool }),
    () => pool.end(),
    databaseName(url),
  );
  try {
    await database.ping(); // fail fast (and clearly) on a bad URL
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

/**
 * A checked-out client whose connection errors become DatabaseUnavailableError, with what a lost
 * connection means for the data: a transaction the server rolls back saved nothing, a COMMIT or an
 * autocommit write may have been saved. Fresh per checkout, so its transaction state is this use's.
 */
/** Statements that may have saved something when run outside a transaction (`with` may hide a write). */
const AUTOCOMMIT_WRITE = /^(insert|update|delete|merge|with|call|do|copy|create|alter|drop|truncate|grant|revoke|comment)\b/;

function trackedClient(client: pg.PoolClient, describe: string): PostgresPoolClient {
  let inTransaction = false;
  let outcome: WriteOutcome | undefined; // sticky: the rollback that follows a lost commit must not hide it
  const tracked = {
    async query(text: string, values?: readonly unknown[]) {
      const statement = text.trimStart().slice(0, 20).toLowerCase();
      try {
        const result = await client.query(text, values as unknown[] | undefined);
        if (/^(begin|start transaction)/.test(statement)) inTransaction = true;
        if (/^(commit|rollback|end)\b/.test(statement)) inTransaction = false;
        return result;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        const commit = /^(commit|end)\b/.test(statement);
        outcome ??= commit || (!inTransaction && AUTOCOMMIT_WRITE.test(statement)) ? 'UNKNOWN' : 'NOT_APPLIED';
        throw new DatabaseUnavailableError(`Lost the connection to ${describe}: ${errorText(err)}`, outcome, { cause: err });
      }
    },
    release(err?: Error | boolean) {
      client.release(err);
    },
  };
  // No cursor is configured (see pglite-dialect.ts), so only the (sql, parameters) form is ever called.
  return tracked as unknown as PostgresPoolClient;
}

function poolMaxFromEnv(): number {
  const raw = process.env.DATABASE_POOL_MAX?.trim();
  if (!raw) return DEFAULT_POOL_MAX;
  const max = Number(raw);
  if (!Number.isInteger(max) || max < 1) {
    throw new Error(`DATABASE_POOL_MAX must be a positive integer, got "${raw}"`);
  }
  return max;
}

function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  } catch {
    return 'postgres';
  }
}

/** host:port/db without credentials, for error messages and logs. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && !err.message) {
    // Node reports a refused dual-stack connect as an AggregateError without message.
    return err.errors.map(errorText).join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return err.message || (typeof code === 'string' ? code : err.name);
  }
  return String(err);
}
