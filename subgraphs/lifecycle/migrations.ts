import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import { dropAppendOnly, makeAppendOnly } from '../../lib/database/append-only.js';

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

      await makeAppendOnly(db, SCHEMA, 'lifecycle_event', 'lifecycle events');
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('unit_state').execute();
      // Dropping the table drops its triggers; the function goes after them.
      await db.schema.dropTable('lifecycle_event').execute();
      await dropAppendOnly(db, SCHEMA, 'lifecycle_event');
    },
  },

  // Details of an event (owner, country, recall, note). Adding columns rewrites no row and fires no
  // row trigger, so the append-only triggers stay as they are. Events recorded before this migration
  // may lack a detail their type now requires: the "required" checks are NOT VALID (enforced for new
  // rows only), the others hold for every row.
  '2026_11_27_001_event_details': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('lifecycle_event')
        .addColumn('owner', 'text', (c) => c.check(sql`owner ~ '^[A-Za-z0-9._:-]{1,100}$'`))
        .addColumn('country', 'text', (c) => c.check(sql`country ~ '^[0-9A-Z]{2}$'`))
        .addColumn('recall', 'text', (c) => c.check(sql`recall ~ '^[0-9A-Z]{12}R[0-9]{4}$'`))
        .addColumn('note', 'text', (c) => c.check(sql`char_length(note) <= 500`))
        .execute();
      const event = sql.table(`${SCHEMA}.lifecycle_event`);
      const checks: [name: string, condition: RawBuilder<unknown>, notValid: boolean][] = [
        ['lifecycle_event_owner_type_check', sql`owner is null or type in ('SOLD', 'OWNERSHIP_TRANSFERRED')`, false],
        ['lifecycle_event_country_type_check', sql`country is null or type in ('EXPORTED', 'IMPORTED')`, false],
        ['lifecycle_event_recall_type_check', sql`recall is null or type = 'RECALL_REMEDIED'`, false],
        ['lifecycle_event_recall_model_check', sql`left(recall, 12) = left(unit_code, 12)`, false],
        ['lifecycle_event_export_abroad_check', sql`type <> 'EXPORTED' or country <> left(unit_code, 2)`, false],
        ['lifecycle_event_owner_required', sql`type not in ('SOLD', 'OWNERSHIP_TRANSFERRED') or owner is not null`, true],
        ['lifecycle_event_country_required', sql`type not in ('EXPORTED', 'IMPORTED') or country is not null`, true],
        ['lifecycle_event_recall_required', sql`type <> 'RECALL_REMEDIED' or recall is not null`, true],
      ];
      for (const [name, condition, notValid] of checks) {
        await sql`alter table ${event} add constraint ${sql.id(name)} check (${condition}) ${notValid ? sql`not valid` : sql``}`.execute(db);
      }
    },
    async down(db: Kysely<any>) {
      // Dropping a column drops the checks on it.
      await db.schema.alterTable('lifecycle_event').dropColumn('owner').dropColumn('country').dropColumn('recall').dropColumn('note').execute();
    },
  },

  // What the analysts' queries and the customs verdict read by (docs/lifecycle.md, "Reads").
  '2026_11_27_002_analytics': {
    async up(db: Kysely<any>) {
      // Filling existing rows rewrites the table, which fires no row trigger; rows recorded earlier get
      // positions in storage order, later ones in commit order.
      await db.schema
        .alterTable('lifecycle_event')
        .addColumn('log_position', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
        .execute();
      await db.schema.createIndex('lifecycle_event_log_position_key').unique().on('lifecycle_event').column('log_position').execute();
      await db.schema.createIndex('lifecycle_event_occurred_at_idx').on('lifecycle_event').column('occurred_at').execute();
      await db.schema.createIndex('lifecycle_event_type_occurred_at_idx').on('lifecycle_event').columns(['type', 'occurred_at']).execute();
      // Remedies are few; this keeps "which campaigns were remedied on these units" an index-only read.
      await db.schema
        .createIndex('lifecycle_event_remedy_idx')
        .on('lifecycle_event')
        .columns(['unit_code', 'recall'])
        .where(sql.ref('type'), '=', 'RECALL_REMEDIED')
        .execute();
      await db.schema.createIndex('unit_state_state_unit_code_idx').on('unit_state').columns(['state', 'unit_code']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('unit_state_state_unit_code_idx').execute();
      await db.schema.dropIndex('lifecycle_event_remedy_idx').execute();
      await db.schema.dropIndex('lifecycle_event_type_occurred_at_idx').execute();
      await db.schema.dropIndex('lifecycle_event_occurred_at_idx').execute();
      await db.schema.dropIndex('lifecycle_event_log_position_key').execute();
      await db.schema.alterTable('lifecycle_event').dropColumn('log_position').execute();
    },
  },
  '2026_11_28_001_recorded_by': {
    async up(db: Kysely<any>) {
      // Adding a nullable column rewrites nothing, so the append-only triggers are not involved.
      await db.schema.alterTable('lifecycle_event').addColumn('recorded_by', 'text', (c) => c.check(sql`length(recorded_by) between 1 and 200`)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('lifecycle_event').dropColumn('recorded_by').execute();
    },
  },

  // The same rules, checked faster: Postgres compiles a bounded repeat such as {1,100} into a large
  // automaton, which made the event_id check alone cost ~35 µs per row (most of a bulk insert). A
  // character class that must not match plus a length is the identical rule at a twentieth of the cost.
  '2026_12_01_001_cheaper_code_checks': {
    async up(db: Kysely<any>) {
      await replaceChecks(db, [
        ['lifecycle_event', 'lifecycle_event_event_id_check', sql`length(event_id) between 1 and 100 and event_id !~ '[^A-Za-z0-9._:-]'`],
        ['lifecycle_event', 'lifecycle_event_owner_check', sql`length(owner) between 1 and 100 and owner !~ '[^A-Za-z0-9._:-]'`],
        ['lifecycle_event', 'lifecycle_event_unit_code_check', sql`length(unit_code) = 29 and unit_code !~ '[^0-9A-Z]'`],
        ['unit_state', 'unit_state_unit_code_check', sql`length(unit_code) = 29 and unit_code !~ '[^0-9A-Z]'`],
      ]);
    },
    async down(db: Kysely<any>) {
      await replaceChecks(db, [
        ['lifecycle_event', 'lifecycle_event_event_id_check', sql`event_id ~ '^[A-Za-z0-9._:-]{1,100}$'`],
        ['lifecycle_event', 'lifecycle_event_owner_check', sql`owner ~ '^[A-Za-z0-9._:-]{1,100}$'`],
        ['lifecycle_event', 'lifecycle_event_unit_code_check', sql`unit_code ~ '^[0-9A-Z]{29}$'`],
        ['unit_state', 'unit_state_unit_code_check', sql`unit_code ~ '^[0-9A-Z]{29}$'`],
      ]);
    },
  },
  // eventsPerMonth groups every event by its UTC month. Without statistics on that expression the planner
  // guesses one group per row and sorts millions of rows on disk (6.8 s at 3M events); knowing there are
  // a few dozen months it hashes them in one parallel index-only pass (1.4 s). Statistics, not an index:
  // nothing to maintain on insert. The query must group by this very expression (lifecycle-repository.ts).
  '2026_12_01_002_event_month_statistics': {
    async up(db: Kysely<any>) {
      await sql`create statistics if not exists ${sql.id(SCHEMA, 'lifecycle_event_month_stats')}
        on (date_trunc('month', occurred_at at time zone 'UTC')) from ${sql.table(`${SCHEMA}.lifecycle_event`)}`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop statistics if exists ${sql.id(SCHEMA, 'lifecycle_event_month_stats')}`.execute(db);
    },
  },
};

/** Swaps check constraints for equivalent ones under the same names (validated: a scan, but a cheap one now). */
async function replaceChecks(db: Kysely<any>, checks: [table: string, name: string, condition: RawBuilder<unknown>][]): Promise<void> {
  for (const [table, name, condition] of checks) {
    const target = sql.table(`${SCHEMA}.${table}`);
    await sql`alter table ${target} drop constraint ${sql.id(name)}, add constraint ${sql.id(name)} check (${condition})`.execute(db);
  }
}
