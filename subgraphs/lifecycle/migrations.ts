import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Raw SQL (functions, triggers) is not rewritten by Kysely's schema plugin, so it names the schema.
 * Migrations are frozen history: the enum lists below are literals on purpose, not imports.
 */
const SCHEMA = 'lifecycle';
const UNIT_STATES_SQL = sql`('REGISTERED', 'IN_STOCK', 'IN_SERVICE', 'IN_TRANSIT', 'STOLEN', 'DECOMMISSIONED',
  'SCRAPPED', 'RECYCLED')`;

export const migrations: Record<string, Migration> = {
  '2026_11_26_001_create_lifecycle_event': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('lifecycle_event')
        .addColumn('event_id', 'text', (c) => c.primaryKey().check(sql`event_id ~ '^[A-Za-z0-9._:-]{1,100}$'`))
        .addColumn('unit_code', 'text', (c) => c.notNull().check(sql`unit_code ~ '^[0-9A-Z]{29}$'`))
        .addColumn('type', 'text', (c) =>
          c.notNull().check(sql`type in ('MANUFACTURED', 'SOLD', 'OWNERSHIP_TRANSFERRED', 'EXPORTED', 'IMPORTED',
            'DEPLOYED', 'MAINTAINED', 'REPAIRED', 'SOFTWARE_UPDATED', 'RECALL_REMEDIED', 'REPORTED_STOLEN',
            'RECOVERED', 'DECOMMISSIONED', 'SCRAPPED', 'RECYCLED')`),
        )
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('sequence', 'integer', (c) => c.notNull().check(sql`sequence >= 1`))
        .addColumn('state_after', 'text', (c) => c.notNull().check(sql`state_after in ${UNIT_STATES_SQL}`))
        // Also the index behind every per-unit page read (unit_code = $1 and sequence > $2 order by sequence).
        .addUniqueConstraint('lifecycle_event_unit_sequence_key', ['unit_code', 'sequence'])
        .execute();

      await db.schema
        .createTable('unit_state')
        .addColumn('unit_code', 'text', (c) => c.primaryKey().check(sql`unit_code ~ '^[0-9A-Z]{29}$'`))
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ${UNIT_STATES_SQL}`))
        .addColumn('state_before_theft', 'text', (c) => c.check(sql`state_before_theft in ${UNIT_STATES_SQL}`))
        .addColumn('last_sequence', 'integer', (c) => c.notNull().check(sql`last_sequence >= 0`))
        .addColumn('manufactured_at', 'timestamptz')
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addCheckConstraint('unit_state_theft_check', sql`(state = 'STOLEN') = (state_before_theft is not null)`)
        .execute();

      // Append-only, whoever connects: the application never updates or deletes an event, so any
      // attempt is a bug or tampering, and the database refuses it rather than trusting every caller.
      await sql`
        create function ${sql.id(SCHEMA, 'refuse_event_change')}() returns trigger language plpgsql as $$
        begin
          raise exception 'lifecycle events are append-only: % refused', tg_op
            using errcode = 'restrict_violation', table = tg_table_name, schema = tg_table_schema;
        end
        $$`.execute(db);
      await sql`
        create trigger lifecycle_event_append_only before update or delete on ${sql.table(`${SCHEMA}.lifecycle_event`)}
        for each row execute function ${sql.id(SCHEMA, 'refuse_event_change')}()`.execute(db);
      await sql`
        create trigger lifecycle_event_no_truncate before truncate on ${sql.table(`${SCHEMA}.lifecycle_event`)}
        for each statement execute function ${sql.id(SCHEMA, 'refuse_event_change')}()`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('unit_state').execute();
      // Dropping the table drops its triggers; the function goes after them.
      await db.schema.dropTable('lifecycle_event').execute();
      await sql`drop function ${sql.id(SCHEMA, 'refuse_event_change')}()`.execute(db);
    },
  },
};
