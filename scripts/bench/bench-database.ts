import pg from 'pg';
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
 * Fills the node's database. The one line to change when the bulk loader lands:
 *   execFileSync(process.execPath, ['dist/scripts/seed.js', '--database-url', url, '--units', String(plan.units), '--events-per-unit', String(plan.eventsPerUnit)], { stdio: 'inherit' })
 */
export async function seedData(node: BenchChild<unknown>, _url: string, plan: SeedPlan): Promise<void> {
  await node.call('seed', plan);
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
