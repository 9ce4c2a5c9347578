import { sql, type Kysely, type Migration } from 'kysely';
import { dropAppendOnly, makeAppendOnly } from '../../lib/database/append-only.js';

/** Raw SQL (functions, triggers) is not rewritten by Kysely's schema plugin, so it names the schema. */
const SCHEMA = 'enterprises';

export const migrations: Record<string, Migration> = {
  '2026_11_25_001_create_enterprise': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('enterprise')
        .addColumn('code', 'text', (c) => c.primaryKey().check(sql`code ~ '^[0-9A-Z]{6}$'`))
        .addColumn('country', 'text', (c) => c.notNull().check(sql`country = substr(code, 1, 2)`))
        .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
        .addColumn('status', 'text', (c) =>
          c.notNull().defaultTo('ACTIVE').check(sql`status in ('ACTIVE', 'SUSPENDED', 'REVOKED')`),
        )
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('enterprise').execute();
    },
  },
  '2026_11_27_001_create_enterprise_status_change': {
    async up(db: Kysely<any>) {
      const status = sql`in ('ACTIVE', 'SUSPENDED', 'REVOKED')`;
      await db.schema
        .createTable('enterprise_status_change')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('enterprise_code', 'text', (c) => c.notNull().references('enterprise.code'))
        .addColumn('previous_status', 'text', (c) => c.notNull().check(sql`previous_status ${status}`))
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status ${status}`))
        .addColumn('reason', 'text', (c) => c.notNull().check(sql`length(reason) between 1 and 500`))
        .addColumn('changed_by', 'text')
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex('enterprise_status_change_by_enterprise')
        .on('enterprise_status_change')
        .columns(['enterprise_code', 'id'])
        .execute();
      // An audit trail that can be edited proves nothing.
      await makeAppendOnly(db, SCHEMA, 'enterprise_status_change', 'status changes');
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('enterprise_status_change').execute();
      await dropAppendOnly(db, SCHEMA, 'enterprise_status_change');
    },
  },
};
