// A private database per test run: a fresh Postgres database when
// DATABASE_URL is set (CI runs the suite against a real server), else an
// in-memory PGlite. Tests never see another run's data either way.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseConfig } from '../../lib/database/database.js';

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) return { config: {}, drop: async () => {} };

  // Random lowercase hex: a valid identifier, so quoting is enough.
  const name = `rrf_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database "${name}"`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    config: { url: url.toString() },
    drop: () =>
      (dropped ??= withAdminClient(adminUrl, async (client) => {
        // FORCE disconnects sessions a failed test may have left open.
        await client.query(`drop database if exists "${name}" with (force)`);
      })),
  };
}

async function withAdminClient(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
