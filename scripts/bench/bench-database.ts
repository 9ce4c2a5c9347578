import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { repoRoot } from '../../lib/schema/contract.js';
import type { BenchChild } from './child-process.js';
import type { SeedPlan } from './seed-through-api.js';

/**
 * The benchmark's own database on the documented Postgres server (DATABASE_URL, else the local one):
 * `bench_registry`, kept between runs when it already holds the asked-for number of units, rebuilt with
 * --fresh or when the count differs. Also finds the server processes that work for it, for their CPU.
 */
export const BENCH_DATABASE = 'bench_registry';

export function benchDatabaseUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

/** Drops (when asked) and creates a database of the server; `create: false` only drops it. */
export async function recreateDatabase(serverUrl: string, drop: boolean, name = BENCH_DATABASE, create = true): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    if (drop) await client.query(`drop database if exists ${name} with (force)`);
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (create && !exists.rowCount) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
}

/**
 * Fills the node's database: with the bulk loader (`npm run seed`, dist/scripts/seed.js) when it is built,
 * else through the node's own mutations (seed-through-api.ts, much slower). Returns which one it used.
 */
export async function seedData(node: BenchChild<unknown>, url: string, plan: SeedPlan): Promise<string> {
  const bulkLoader = join(repoRoot(), 'dist', 'scripts', 'seed.js');
  if (!existsSync(bulkLoader)) {
    await node.call('seed', plan);
    return 'through the API (interim loader)';
  }
  execFileSync(process.execPath, [bulkLoader, '--database-url', url, '--units', String(plan.units), '--events-per-unit', String(plan.eventsPerUnit)], { stdio: 'inherit' });
  return 'npm run seed (bulk loader)';
}

/** The Postgres backends serving the bench database (not this monitoring connection): their pids, for /proc. */
export class BackendWatch {
  readonly #client: pg.Client;
  private constructor(client: pg.Client) {
    this.#client = client;
  }
  static async open(url: string): Promise<BackendWatch> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new BackendWatch(client);
  }
  async pids(): Promise<number[]> {
    const rows = await this.#client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    return rows.rows.map((r) => r.pid);
  }
  async serverVersion(): Promise<string> {
    return (await this.#client.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
  }
  close(): Promise<void> {
    return this.#client.end();
  }
}
