import { sql, type Kysely, type Migration } from 'kysely';
import { dropAppendOnly } from '../../lib/database/append-only.js';
import { createStatusAuditTable } from '../../lib/database/status-audit.js';

/** Raw SQL (functions, triggers) is not rewritten by Kysely's schema plugin, so it names the schema. */
const SCHEMA = 'product_models';

export const migrations: Record<string, Migration> = {
  '2026_11_25_001_create_product_model': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('product_model')
        .addColumn('code', 'text', (c) => c.primaryKey().check(sql`code ~ '^[0-9A-Z]{12}$'`))
        .addColumn('enterprise_code', 'text', (c) => c.notNull().check(sql`enterprise_code = substr(code, 1, 6)`))
        .addColumn('country', 'text', (c) => c.notNull().check(sql`country = substr(code, 1, 2)`))
        .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
        .addColumn('category', 'text', (c) => c.notNull().check(sql`length(category) between 1 and 100`))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('ACTIVE').check(sql`status in ('ACTIVE', 'WITHDRAWN')`))
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('product_model_by_enterprise').on('product_model').columns(['enterprise_code', 'code']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('product_model').execute();
    },
  },
  '2026_11_27_001_create_recall_campaign_and_status_change': {
    async up(db: Kysely<any>) {
      // Serials are fixed-length [0-9A-Z], so ranges compare as plain strings; "C" pins the byte
      // order whatever the database's default collation, matching the comparisons in the queries.
      const serial = (column: string) => sql`${sql.ref(column)} ~ '^[0-9A-Z]{17}$'`;
      await db.schema
        .createTable('recall_campaign')
        .addColumn('code', 'text', (c) => c.primaryKey().check(sql`code ~ '^[0-9A-Z]{12}R[0-9]{4}$'`))
        .addColumn('model_code', 'text', (c) => c.notNull().references('product_model.code').check(sql`model_code = substr(code, 1, 12)`))
        .addColumn('sequence', 'integer', (c) =>
          c.notNull().check(sql`sequence between 1 and 9999 and substr(code, 14, 4) = lpad(sequence::text, 4, '0')`),
        )
        .addColumn('serial_from', 'text', (c) => c.check(serial('serial_from')))
        .addColumn('serial_to', 'text', (c) => c.check(serial('serial_to')))
        .addColumn('defect', 'text', (c) => c.notNull().check(sql`length(defect) between 1 and 1000`))
        .addColumn('remedy', 'text', (c) => c.notNull().check(sql`length(remedy) between 1 and 1000`))
        .addColumn('opened_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('closed_at', 'timestamptz', (c) => c.check(sql`closed_at >= opened_at`))
        .addCheckConstraint('recall_campaign_range_check', sql`(serial_from is null) = (serial_to is null) and serial_from collate "C" <= serial_to`)
        // Also the index behind every per-model read (model_code = any(...) order by sequence).
        .addUniqueConstraint('recall_campaign_model_sequence_key', ['model_code', 'sequence'])
        .execute();

      await createStatusAuditTable(db, SCHEMA, {
        table: 'product_model_status_change',
        subject: { column: 'model_code', references: 'product_model.code' },
        statuses: ['ACTIVE', 'WITHDRAWN'],
      });
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('product_model_status_change').execute();
      await dropAppendOnly(db, SCHEMA, 'product_model_status_change');
      await db.schema.dropTable('recall_campaign').execute();
    },
  },
};
