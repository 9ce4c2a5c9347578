import type { DatabaseConnection, Dialect, Driver } from 'kysely';
import { dbConnectionsInUse, dbConnectionsWaiting, dbStatementDuration, metricsEnabled } from './registry.js';

/**
 * Connections in use and waiting, for both backends alike: the dialect's driver is wrapped, so a
 * Postgres pool checkout and the PGlite session lock are counted at the same place.
 */
export function instrumentDialect(dialect: Dialect): Dialect {
  if (!metricsEnabled) return dialect;
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => countedDriver(dialect.createDriver()),
  };
}

function countedDriver(driver: Driver): Driver {
  // Delegation, not a prototype: drivers keep their state in private fields.
  const counted: Driver = {
    init: () => driver.init(),
    acquireConnection: async () => {
      dbConnectionsWaiting.inc();
      try {
        const connection = await driver.acquireConnection();
        dbConnectionsInUse.inc();
        return connection;
      } finally {
        dbConnectionsWaiting.dec();
      }
    },
    releaseConnection: async (connection: DatabaseConnection) => {
      dbConnectionsInUse.dec();
      return driver.releaseConnection(connection);
    },
    beginTransaction: (connection, settings) => driver.beginTransaction(connection, settings),
    commitTransaction: (connection) => driver.commitTransaction(connection),
    rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
    destroy: () => driver.destroy(),
  };
  if (driver.savepoint) counted.savepoint = driver.savepoint.bind(driver);
  if (driver.rollbackToSavepoint) counted.rollbackToSavepoint = driver.rollbackToSavepoint.bind(driver);
  if (driver.releaseSavepoint) counted.releaseSavepoint = driver.releaseSavepoint.bind(driver);
  return counted;
}

const KINDS = new Set(['select', 'insert', 'update', 'delete']);

/** One statement's latency, by its kind only (never its text: that would be an unbounded label). */
export function observeStatement(sql: string, ms: number, outcome: 'ok' | 'error' = 'ok'): void {
  if (!metricsEnabled) return;
  const word = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'other';
  dbStatementDuration.observe({ kind: KINDS.has(word) ? word : 'other', outcome }, ms / 1000);
}
