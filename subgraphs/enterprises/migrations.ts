import { sql, type Kysely, type Migration } from 'kysely';

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
};
