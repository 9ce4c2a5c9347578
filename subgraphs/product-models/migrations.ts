import { sql, type Kysely, type Migration } from 'kysely';

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
};
