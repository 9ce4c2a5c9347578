import { sql, type Kysely, type Migration } from 'kysely';
import { dropAppendOnly, makeAppendOnly } from '../../lib/database/append-only.js';
import { SCHEMA } from './audit-table.js';

export const migrations: Record<string, Migration> = {
  '2026_11_26_001_create_audit_entry': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_entry')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('role', 'text')
        .addColumn('country', 'text')
        .addColumn('enterprise', 'text')
        .addColumn('operation_type', 'text', (c) => c.notNull())
        .addColumn('operation_name', 'text')
        .addColumn('fields', sql`text[]`, (c) => c.notNull())
        .addColumn('codes', sql`text[]`, (c) => c.notNull())
        .addColumn('verdicts', sql`text[]`, (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('audit_entry_subject').on('audit_entry').columns(['subject', 'id']).execute();
      await sql`create index audit_entry_codes on ${sql.table(`${SCHEMA}.audit_entry`)} using gin (codes)`.execute(db);
      await makeAppendOnly(db, SCHEMA, 'audit_entry', 'audit entries');
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('audit_entry').execute();
      await dropAppendOnly(db, SCHEMA, 'audit_entry');
    },
  },
};
