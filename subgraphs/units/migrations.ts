import { sql, type Kysely, type Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '2026_11_25_001_create_unit': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('unit')
        .addColumn('code', 'text', (c) => c.primaryKey().check(sql`code ~ '^[0-9A-Z]{29}$'`))
        .addColumn('country', 'text', (c) => c.notNull().check(sql`country = substr(code, 1, 2)`))
        .addColumn('enterprise_code', 'text', (c) => c.notNull().check(sql`enterprise_code = substr(code, 1, 6)`))
        .addColumn('model_code', 'text', (c) => c.notNull().check(sql`model_code = substr(code, 1, 12)`))
        .addColumn('serial', 'text', (c) => c.notNull().check(sql`serial = substr(code, 13, 17)`))
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('unit_by_model').on('unit').columns(['model_code', 'code']).execute();
      await db.schema.createIndex('unit_by_enterprise').on('unit').columns(['enterprise_code']).execute();
      await db.schema
        .createTable('serial_counter')
        .addColumn('model_code', 'text', (c) => c.primaryKey())
        .addColumn('next_serial', 'bigint', (c) => c.notNull().check(sql`next_serial > 0`))
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('serial_counter').execute();
      await db.schema.dropTable('unit').execute();
    },
  },
  '2026_11_27_001_index_unit_registered_at': {
    async up(db: Kysely<any>) {
      // Analysts filter units by registration time (Registry.units(filter: { registeredFrom, ... })).
      await db.schema.createIndex('unit_by_registered_at').on('unit').columns(['registered_at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('unit_by_registered_at').execute();
    },
  },
  '2026_11_28_001_create_issuance': {
    async up(db: Kysely<any>) {
      // registerUnits(input: { requestKey }): a retried request gets its first answer back.
      await db.schema
        .createTable('issuance')
        .addColumn('requester', 'text', (c) => c.notNull())
        .addColumn('request_key', 'text', (c) => c.notNull().check(sql`request_key ~ '^[A-Za-z0-9._:-]{1,100}$'`))
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('codes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('issuance_pkey', ['requester', 'request_key'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('issuance').execute();
    },
  },
  // The same rule, checked faster: a bounded repeat ({29}) compiles into a large automaton in Postgres;
  // a length and a class that must not match are the identical rule at a fraction of the cost per row.
  '2026_12_01_001_cheaper_code_check': {
    async up(db: Kysely<any>) {
      await sql`alter table units.unit drop constraint unit_code_check,
        add constraint unit_code_check check (length(code) = 29 and code !~ '[^0-9A-Z]')`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table units.unit drop constraint unit_code_check, add constraint unit_code_check check (code ~ '^[0-9A-Z]{29}$')`.execute(db);
    },
  },
  // Registry.units(filter: { enterprise }) pages by code: with (enterprise_code) alone, Postgres walked
  // the primary key and filtered (150,000 rows read for a page of 50 at 1M units). This index answers
  // the page directly and still serves the per-enterprise counts (Enterprise.unitCount).
  '2026_12_01_002_unit_by_enterprise_code': {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('unit_by_enterprise_code').on('unit').columns(['enterprise_code', 'code']).execute();
      await db.schema.dropIndex('unit_by_enterprise').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.createIndex('unit_by_enterprise').on('unit').columns(['enterprise_code']).execute();
      await db.schema.dropIndex('unit_by_enterprise_code').execute();
    },
  },
};
