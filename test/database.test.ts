// Runs against whichever database the environment selects: in-memory PGlite
// by default, a fresh Postgres database when DATABASE_URL is set. The same
// assertions must hold on both.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { AbortedTransactionError, Kysely, sql, type Generated, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseConfigFromEnv, openDatabase, type Database, type StatementEvent } from '../lib/database/database.js';
import { migrateSchema } from '../lib/database/migrate.js';
import { PGliteDialect } from '../lib/database/pglite-dialect.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

interface ItemsDB {
  items: { id: Generated<number>; code: string; created_at: Generated<Date> };
}

const usingPostgres = Boolean(process.env.DATABASE_URL);

function itemMigrations(calls: string[] = []): Record<string, Migration> {
  return {
    '2026_11_25_001_create_items': {
      async up(db) {
        calls.push('001');
        await db.schema
          .createTable('items')
          .addColumn('id', 'serial', (col) => col.primaryKey())
          .addColumn('code', 'text', (col) => col.notNull().unique())
          .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
          .execute();
      },
    },
    '2026_11_25_002_index_items': {
      async up(db) {
        calls.push('002');
        await db.schema.createIndex('items_created_at_idx').on('items').column('created_at').execute();
      },
    },
  };
}

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase(testDb.config);
  for (const schema of ['alpha', 'beta']) {
    await migrateSchema(database.forSchema(schema), schema, itemMigrations());
  }
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const codesIn = async (db: Kysely<ItemsDB>, codes: string[]): Promise<string[]> =>
  (await db.selectFrom('items').select('code').where('code', 'in', codes).orderBy('code').execute()).map(
    (row) => row.code,
  );

describe('configuration', () => {
  it('uses the backend the environment selects', () => {
    expect(database.kind).toBe(usingPostgres ? 'postgres' : 'pglite');
  });

  it('reads DATABASE_URL, then DATA_DIR, then the default', () => {
    expect(databaseConfigFromEnv({ DATABASE_URL: 'postgres://h/db', DATA_DIR: 'x' }, { dataDir: 'd' })).toEqual({
      url: 'postgres://h/db',
    });
    expect(databaseConfigFromEnv({ DATA_DIR: 'x' }, { dataDir: 'd' })).toEqual({ dataDir: 'x' });
    expect(databaseConfigFromEnv({}, { dataDir: 'd' })).toEqual({ dataDir: 'd' });
    expect(databaseConfigFromEnv({}, {})).toEqual({});
  });

  it('pings', async () => {
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it('fails (rather than waiting forever) and names the host when Postgres is unreachable', async () => {
    await expect(openDatabase({ url: 'postgres://postgres@127.0.0.1:1/x' })).rejects.toThrow(
      /Cannot connect to Postgres at 127\.0\.0\.1:1\/x: .*ECONNREFUSED/,
    );
  });
});

describe('migrations', () => {
  it('apply once, keep their bookkeeping in the schema, and are idempotent', async () => {
    const calls: string[] = [];
    const db = database.forSchema<ItemsDB>('mig_once');
    await migrateSchema(db, 'mig_once', itemMigrations(calls));
    await migrateSchema(db, 'mig_once', itemMigrations(calls));
    expect(calls).toEqual(['001', '002']);

    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${'mig_once'} order by table_name`.execute(db);
    expect(rows.map((row) => row.table_name)).toEqual(['items', 'kysely_migration', 'kysely_migration_lock']);
  });

  it('name the failed migration and roll the whole run back', async () => {
    const db = database.forSchema<ItemsDB>('mig_fail');
    const migrations: Record<string, Migration> = {
      ...itemMigrations(),
      '2026_11_25_003_broken': { up: async (trx) => void (await sql`select * from no_such_table`.execute(trx)) },
    };
    await expect(migrateSchema(db, 'mig_fail', migrations)).rejects.toThrow(
      /Schema "mig_fail": migration 2026_11_25_003_broken failed: .*no_such_table/,
    );
    const { rows } = await sql<{ n: number }>`
      select count(*) as n from information_schema.tables where table_schema = 'mig_fail' and table_name = 'items'`.execute(db);
    expect(rows[0]?.n).toBe(0);
  });

  it('apply once when several processes migrate the same database at once', async () => {
    // Each extra Database has its own pool, like another process (PGlite is
    // single-process: there the runs share the instance).
    const others = usingPostgres
      ? await Promise.all([openDatabase(testDb.config), openDatabase(testDb.config)])
      : [database, database];
    try {
      const calls: string[] = [];
      await Promise.all(
        [database, ...others].map((db) => migrateSchema(db.forSchema('mig_race'), 'mig_race', itemMigrations(calls))),
      );
      expect(calls).toEqual(['001', '002']);
    } finally {
      await Promise.all(others.filter((db) => db !== database).map((db) => db.close()));
    }
  });
});

describe('queries', () => {
  it('isolate forSchema instances by schema', async () => {
    const alpha = database.forSchema<ItemsDB>('alpha');
    const beta = database.forSchema<ItemsDB>('beta');
    await alpha.insertInto('items').values({ code: 'iso-1' }).execute();
    expect(await codesIn(beta, ['iso-1'])).toEqual([]);
    await beta.insertInto('items').values({ code: 'iso-1' }).execute(); // no unique clash across schemas
    expect(await codesIn(alpha, ['iso-1'])).toEqual(['iso-1']);
  });

  it('report affected rows and refuse to stream on both', async () => {
    const beta = database.forSchema<ItemsDB>('beta');
    await beta.insertInto('items').values([{ code: 'aff-1' }, { code: 'aff-2' }]).execute();
    const updated = await beta
      .updateTable('items')
      .set({ created_at: new Date() })
      .where('code', 'in', ['aff-1', 'aff-2'])
      .executeTakeFirstOrThrow();
    expect(updated.numUpdatedRows).toBe(2n);
    const stream = async (): Promise<void> => {
      for await (const _ of beta.selectFrom('items').select('code').stream()) void _;
    };
    await expect(stream()).rejects.toThrow(/cursor/);
  });

  it('roll back a transaction that throws', async () => {
    const alpha = database.forSchema<ItemsDB>('alpha');
    await expect(
      alpha.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ code: 'rb-1' }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await codesIn(alpha, ['rb-1'])).toEqual([]);
  });

  it('never interleave a transaction with statements of other instances', async () => {
    const inTx = database.forSchema<ItemsDB>('alpha');
    const sameSchema = database.forSchema<ItemsDB>('alpha');
    const otherSchema = database.forSchema<ItemsDB>('beta');
    // Events, not sleeps: the transaction has written when the outside inserts are issued, and it ends
    // (rolls back) only once they have been handed to the database layer.
    let written!: () => void;
    let issued!: () => void;
    const txWrote = new Promise<void>((resolve) => (written = resolve));
    const outsideIssued = new Promise<void>((resolve) => (issued = resolve));
    const failing = inTx.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ code: 'tx-1' }).execute();
      written();
      await outsideIssued;
      throw new Error('rolled back');
    });
    await txWrote;
    const outside = [
      sameSchema.insertInto('items').values({ code: 'outside-1' }).execute(),
      otherSchema.insertInto('items').values({ code: 'outside-2' }).execute(),
    ];
    await new Promise((resolve) => setImmediate(resolve)); // one turn: the inserts reach the driver
    issued();
    await Promise.all([...outside, expect(failing).rejects.toThrow('rolled back')]);
    expect(await codesIn(inTx, ['tx-1', 'outside-1'])).toEqual(['outside-1']);
    expect(await codesIn(otherSchema, ['outside-2'])).toEqual(['outside-2']);
  });

  it('surface unique violations with the Postgres error fields', async () => {
    const alpha = database.forSchema<ItemsDB>('alpha');
    await alpha.insertInto('items').values({ code: 'dup-1' }).execute();
    const err = await alpha
      .insertInto('items')
      .values({ code: 'dup-1' })
      .execute()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: '23505', constraint: 'items_code_key', table: 'items', schema: 'alpha' });
    expect((err as { detail?: string }).detail).toMatch(/\(code\)=\(dup-1\) already exists/);

    // A swallowed error still aborts the transaction: COMMIT turns into ROLLBACK.
    await expect(
      alpha.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ code: 'dup-2' }).execute();
        await trx.insertInto('items').values({ code: 'dup-1' }).execute().catch(() => undefined);
      }),
    ).rejects.toBeInstanceOf(AbortedTransactionError);
    expect(await codesIn(alpha, ['dup-2'])).toEqual([]);
  });

  it('report executed statements by schema', async () => {
    const events: StatementEvent[] = [];
    const unsubscribe = database.onStatement((event) => events.push(event));
    const alpha = database.forSchema<ItemsDB>('alpha');
    const beta = database.forSchema<ItemsDB>('beta');
    await alpha.selectFrom('items').select('id').execute();
    await alpha.selectFrom('items').select('code').execute();
    await beta.selectFrom('items').select('id').execute();
    await database.ping(); // internal, not reported
    unsubscribe();
    await beta.selectFrom('items').select('id').execute();

    expect(events.map((e) => e.schema)).toEqual(['alpha', 'alpha', 'beta']);
    expect(events[0]?.sql).toBe('select "id" from "alpha"."items"');
    expect(events.every((e) => e.durationMs >= 0)).toBe(true);
  });

  it('return the same JS types on both databases', async () => {
    const alpha = database.forSchema<ItemsDB>('alpha');
    const at = new Date('2026-11-25T10:20:30.123Z');
    await alpha.insertInto('items').values({ code: 'types-1', created_at: at }).execute();

    const counted = await alpha
      .selectFrom('items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('code', '=', 'types-1')
      .executeTakeFirstOrThrow();
    expect(counted.n).toBe(1);
    const item = await alpha.selectFrom('items').selectAll().where('code', '=', 'types-1').executeTakeFirstOrThrow();
    expect(item.created_at).toEqual(at);
    expect(typeof item.id).toBe('number');

    const { rows } = await sql<Record<string, unknown>>`
      select 9007199254740993::int8 as big, 1.50::numeric as num, '2024-01-02'::date as day,
             array[1, null, 3]::int8[] as ints, '{"a": [1]}'::jsonb as doc, true as flag,
             '\\x0102'::bytea as bytes`.execute(alpha);
    const row = rows[0]!;
    expect(row.big).toBe(9007199254740993n); // beyond 2^53: bigint, never rounded
    expect(row.num).toBe('1.50');
    expect(row.day).toBeInstanceOf(Date);
    const day = row.day as Date;
    expect([day.getFullYear(), day.getMonth(), day.getDate()]).toEqual([2024, 0, 2]); // local midnight, as pg
    expect(row.ints).toEqual([1, null, 3]);
    expect(row.doc).toEqual({ a: [1] });
    expect(row.flag).toBe(true);
    expect(Buffer.isBuffer(row.bytes)).toBe(true);
    expect([...(row.bytes as Buffer)]).toEqual([1, 2]);
  });

  it('bind a 1,000-element array parameter', async () => {
    const alpha = database.forSchema<ItemsDB>('alpha');
    const stored = Array.from({ length: 500 }, (_, i) => `arr-${i}`);
    await alpha
      .insertInto('items')
      .values(stored.map((code) => ({ code })))
      .execute();
    const wanted = [...stored, ...Array.from({ length: 500 }, (_, i) => `missing-${i}`)];
    expect(wanted).toHaveLength(1000);

    const count = async (where: ReturnType<typeof sql<boolean>>): Promise<number> =>
      (
        await alpha
          .selectFrom('items')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where(where)
          .executeTakeFirstOrThrow()
      ).n;
    expect(await count(sql<boolean>`${sql.ref('code')} = any(${wanted}::text[])`)).toBe(500);
    expect(await count(sql<boolean>`${sql.ref('code')} = any(${wanted})`)).toBe(500);
    expect((await codesIn(alpha, wanted)).length).toBe(500);
  });
});

describe('lifecycle', () => {
  it('destroying a forSchema instance leaves the shared connection open', async () => {
    const scratch = database.forSchema<ItemsDB>('alpha');
    await scratch.selectFrom('items').select('id').limit(1).execute();
    await scratch.destroy();
    await database.ping();
    await database.forSchema<ItemsDB>('alpha').selectFrom('items').select('id').limit(1).execute();
  });

  it('close is idempotent and later use fails clearly', async () => {
    const db = await openDatabase(testDb.config);
    await db.ping();
    await Promise.all([db.close(), db.close()]);
    await db.close();
    expect(() => db.forSchema('alpha')).toThrow(/is closed/);
    await expect(db.ping()).rejects.toThrow();
  });
});

describe.skipIf(!usingPostgres)('Postgres specifics', () => {
  it('bounds statements with statement_timeout', async () => {
    const { rows } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(database.forSchema('alpha'));
    expect(rows[0]?.statement_timeout).toBe('15s');
  });
});

describe.skipIf(usingPostgres)('PGlite specifics', () => {
  it('persists to its data dir, which only one Database may open', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rrf-pglite-'));
    try {
      const first = await openDatabase({ dataDir });
      await migrateSchema(first.forSchema('alpha'), 'alpha', itemMigrations());
      await first.forSchema<ItemsDB>('alpha').insertInto('items').values({ code: 'kept' }).execute();
      await expect(openDatabase({ dataDir })).rejects.toThrow(/already open/);
      await first.close();

      const reopened = await openDatabase({ dataDir });
      try {
        expect(await codesIn(reopened.forSchema<ItemsDB>('alpha'), ['kept'])).toEqual(['kept']);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('turns a nested query outside the transaction into an error, not a hang', async () => {
    const pglite = await PGlite.create();
    const a = new Kysely<ItemsDB>({ dialect: new PGliteDialect({ pglite, lockTimeoutMillis: 200 }) });
    const b = new Kysely<ItemsDB>({ dialect: new PGliteDialect({ pglite, lockTimeoutMillis: 200 }) });
    try {
      await expect(a.transaction().execute(async () => sql`select 1`.execute(b))).rejects.toThrow(
        /Timed out after 200ms waiting for the PGlite session/,
      );
      // A transaction left open on a plain connection is rolled back on release.
      await a.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
      });
      expect(pglite.isInTransaction()).toBe(false);
      await expect(sql`select 1 as one`.execute(b)).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await a.destroy();
      await b.destroy();
      await pglite.close();
    }
  });
});
