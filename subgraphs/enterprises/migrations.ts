import { sql, type Kysely, type Migration } from 'kysely';
import { dropAppendOnly } from '../../lib/database/append-only.js';
import { createStatusAuditTable } from '../../lib/database/status-audit.js';

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
      await createStatusAuditTable(db, SCHEMA, {
        table: 'enterprise_status_change',
        subject: { column: 'enterprise_code', references: 'enterprise.code' },
        statuses: ['ACTIVE', 'SUSPENDED', 'REVOKED'],
      });
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('enterprise_status_change').execute();
      await dropAppendOnly(db, SCHEMA, 'enterprise_status_change');
    },
  },
};
