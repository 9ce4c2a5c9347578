import { sql, type Kysely, type Migration } from 'kysely';

/** Migrated by the node before its subgraphs start (lib/alerts/alerts-schema.ts), so every writer finds the outbox. */
export const alertsMigrations: Record<string, Migration> = {
  '2026_12_02_001_create_alerts': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('alert_outbox')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('position', 'bigserial', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('enterprise', 'text', (c) => c.notNull())
        .addColumn('countries', sql`text[]`, (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addColumn('facts', 'jsonb', (c) => c.notNull())
        .addColumn('fanned_out', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('alert_outbox_subject_sequence', ['subject', 'sequence'])
        .execute();
      await sql`create index alert_outbox_pending on ${sql.table('alerts.alert_outbox')} (position) where not fanned_out`.execute(db);
      await db.schema
        .createTable('alert_subject_sequence')
        .addColumn('subject', 'text', (c) => c.primaryKey())
        .addColumn('last_sequence', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alert_unit_crossing')
        .addColumn('unit', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('enterprise', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('alert_unit_crossing_pk', ['unit', 'country'])
        .execute();
      await db.schema.createIndex('alert_unit_crossing_model').on('alert_unit_crossing').columns(['country', 'model']).execute();
      await db.schema.createIndex('alert_unit_crossing_enterprise').on('alert_unit_crossing').columns(['country', 'enterprise']).execute();
      await db.schema
        .createTable('alert_subscription')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('imports_into', 'text')
        .addColumn('models', sql`text[]`)
        .addColumn('kinds', sql`text[]`, (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('alert_delivery')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('subscription_id', 'uuid', (c) => c.notNull().references('alert_subscription.id').onDelete('cascade'))
        .addColumn('alert_id', 'uuid', (c) => c.notNull().references('alert_outbox.id'))
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
        .addColumn('lease_until', 'timestamptz')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('delivered_at', 'timestamptz')
        .addUniqueConstraint('alert_delivery_once', ['subscription_id', 'alert_id'])
        .execute();
      await sql`create index alert_delivery_pending on ${sql.table('alerts.alert_delivery')} (subscription_id, subject, sequence) where status = 'PENDING'`.execute(db);
      await db.schema
        .createTable('alert_attempt')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('delivery_id', 'bigint', (c) => c.notNull().references('alert_delivery.id').onDelete('cascade'))
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('http_status', 'integer')
        .addColumn('error', 'text')
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alert_attempt_delivery').on('alert_attempt').columns(['delivery_id', 'id']).execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['alert_attempt', 'alert_delivery', 'alert_subscription', 'alert_unit_crossing', 'alert_subject_sequence', 'alert_outbox']) await db.schema.dropTable(table).execute();
    },
  },
  /**
   * Border crossings recorded before alerts existed: `recordEvents` keeps alert_unit_crossing from then on,
   * so without this an importsInto subscription would miss the recalls, withdrawals and suspensions of
   * models its country imported earlier. Read from the lifecycle subgraph's table when it is in this
   * database and already has its country column (a node this old migrates lifecycle after alerts; its
   * crossings then all come through recordEvents anyway, since none had a country).
   */
  '2026_12_03_001_backfill_crossings': {
    async up(db: Kysely<any>) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from information_schema.columns
        where table_schema = 'lifecycle' and table_name = 'lifecycle_event' and column_name = 'country'`.execute(db);
      if (!rows[0]?.n) return;
      await sql`
        insert into ${sql.table('alerts.alert_unit_crossing')} (unit, country, model, enterprise)
        select distinct unit_code, country, substr(unit_code, 1, 12), substr(unit_code, 1, 6)
        from lifecycle.lifecycle_event
        where type in ('EXPORTED', 'IMPORTED') and country is not null
        on conflict do nothing`.execute(db);
    },
    async down() {
      // Rows, not structure: the crossings stay (they are true).
    },
  },
};
