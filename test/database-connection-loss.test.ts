// A connection the server ends under a checked-out client (what a Postgres restart does to every
// busy connection) fails the one statement that used it, with an error that says so, and the
// pool opens a fresh connection for the next. Before, pg emitted an unhandled 'error' and the
// process died. Postgres only: the server ends the backend (pg_terminate_backend), as on a restart.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { DatabaseUnavailableError } from '../lib/database/database-unavailable.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

describe.skipIf(!process.env.DATABASE_URL)('a lost Postgres connection', () => {
  let testDb: TestDatabase;
  let database: Database;
  let admin: pg.Client;
  const unexpected: unknown[] = [];
  const onUnexpected = (err: unknown) => void unexpected.push(err);
  beforeAll(async () => {
    process.on('uncaughtException', onUnexpected);
    testDb = await createTestDatabase();
    database = await openDatabase(testDb.config);
    admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await sql`create table if not exists public.loss_probe (id text primary key)`.execute(database.forSchema('public'));
  });
  afterAll(async () => {
    process.off('uncaughtException', onUnexpected);
    await admin?.end();
    await database?.close();
    await testDb?.drop();
  });

  it('fails the transaction that used it as NOT_APPLIED, saves nothing, and the next request works', async () => {
    const db = database.forSchema<{ loss_probe: { id: string } }>('public');
    const failure = await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('loss_probe').values({ id: 'lost-1' }).execute();
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        // The server ends this connection while the transaction holds it.
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        await sql`select pg_sleep(5)`.execute(trx);
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect((failure as DatabaseUnavailableError).outcome).toBe('NOT_APPLIED');
    expect((failure as DatabaseUnavailableError).publicMessage).toMatch(/nothing was saved/);

    // The pool dropped the dead client: the next statement gets a fresh connection.
    expect(await db.selectFrom('loss_probe').select('id').where('id', '=', 'lost-1').execute()).toEqual([]);
    await database.ping();
    expect(unexpected).toEqual([]);
  });
});
