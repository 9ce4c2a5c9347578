/**
 * Fills one registry node's database with a generated national data set, directly and fast: the node's
 * own migrations first (so an empty database works), then enterprises, models, serial counters and
 * recall campaigns in one transaction, then units with their histories in batches (bulk-writer.ts).
 * Every history is the state machine's (histories.ts), and every derived row (unit_state, serial_counter)
 * is what the API would have written for the same events.
 */
import { openDatabase, type DatabaseConfig } from '../../lib/database/database.js';
import { migrateSchema } from '../../lib/database/migrate.js';
import { UNIT_STATES, type UnitState } from '../../subgraphs/lifecycle/state-machine.js';
import { SUBGRAPH_MODULES } from '../../subgraphs/registry-node.js';
import { EVENT_TABLE, openBulkSession, STATE_TABLE, UNIT_TABLE, type BulkSession } from './bulk-session.js';
import { planCatalogue, planRecalls, serial, type Catalogue } from './catalogue.js';
import { seededRandom } from './random.js';
import { unitBatches } from './unit-batches.js';

export interface SeedOptions {
  /** Postgres URL, or the embedded database's data directory (an in-memory database would be lost). */
  database: DatabaseConfig;
  country: string;
  units: number;
  eventsPerUnit: number;
  enterprises: number;
  models: number;
  /** Shares of the units, 0 to 1. */
  stolen: number;
  scrapped: number;
  recalled: number;
  seed: string;
  /** Add to a registry that already holds data, instead of refusing. */
  append: boolean;
  batchSize?: number;
  /** After each batch; `loadingMs` counts from the first batch (migrations and catalogue excluded). */
  onProgress?: (progress: { units: number; events: number; totalUnits: number; loadingMs: number }) => void;
}

export interface SeedSummary {
  units: number;
  events: number;
  enterprises: number;
  models: number;
  recallCampaigns: number;
  /** Units of this run under an open recall campaign. */
  recalledUnits: number;
  /** Units of this run per state (REGISTERED: no events). */
  unitsByState: Record<UnitState, number>;
  /** Rows written per table, schema-qualified. */
  rows: Record<string, number>;
  elapsedMs: number;
}

/** The database already holds registry data and --append was not given, or the options make no sense. */
export class SeedRefusedError extends Error {}

const DEFAULT_BATCH = 5_000;
const YEARS_OF_HISTORY = 5;
const DAY_MS = 86_400_000;
const LOADED_TABLES = [UNIT_TABLE, STATE_TABLE, EVENT_TABLE];

export async function seedRegistry(options: SeedOptions): Promise<SeedSummary> {
  checkOptions(options);
  const started = performance.now();
  const stolen = Math.round(options.units * options.stolen);
  const scrapped = Math.round(options.units * options.scrapped);
  const catalogue = planCatalogue(options);
  catalogue.recalls = planRecalls(catalogue.models, options.units, options.recalled);
  const to = new Date(Date.now() - 60_000);
  const from = new Date(to.getTime() - YEARS_OF_HISTORY * 365 * DAY_MS);

  const database = await openDatabase(options.database);
  try {
    for (const module of Object.values(SUBGRAPH_MODULES)) {
      await migrateSchema(database.forSchema(module.schema), module.schema, module.migrations);
    }
  } finally {
    await database.close();
  }

  const session = await openBulkSession(options.database);
  const unitsByState = Object.fromEntries(UNIT_STATES.map((s) => [s, 0])) as Record<UnitState, number>;
  let units = 0;
  let events = 0;
  let states = 0;
  try {
    await session.query('begin');
    // Writers wait until the load commits; readers carry on with what was there before.
    await session.query(`lock table ${LOADED_TABLES.join(', ')} in exclusive mode`);
    const fresh = await refuseExistingData(session, options);
    await writeCatalogue(session, catalogue, new Date(from.getTime() - DAY_MS));
    // Into empty tables, building the indexes once at the end is several times cheaper than keeping
    // them up to date row by row; inside the transaction, a failure brings them back untouched.
    const rebuild = fresh ? await dropIndexesForLoad(session) : [];

    const random = seededRandom(`${options.seed}:${options.country}`);
    const batches = unitBatches({ random, models: catalogue.models, home: options.country, eventsPerUnit: options.eventsPerUnit, stolen, scrapped, batchSize: options.batchSize ?? DEFAULT_BATCH, from, to });
    // One batch is written while the next one is generated: the database and this process overlap.
    let writing: Promise<void> = Promise.resolve();
    const loadingSince = performance.now();
    for (const batch of batches) {
      await writing;
      writing = session.writeBatch(batch).then(() => {
        units += batch.units.code.length;
        events += batch.events.eventId.length;
        states += batch.states.unitCode.length;
        for (const [state, n] of batch.stateCounts) unitsByState[state] += n;
        options.onProgress?.({ units, events, totalUnits: options.units, loadingMs: performance.now() - loadingSince });
      });
    }
    await writing;
    if (rebuild.length > 0 && options.database.url) await session.query(`set local maintenance_work_mem = '256MB'`);
    for (const definition of rebuild) await session.query(definition);
    await session.query('commit');
    // Planner statistics (a freshly loaded table otherwise gets plans made for an empty one) and the
    // visibility map (index-only scans), which no reader should have to wait for autovacuum to make.
    await session.query(`vacuum (analyze) ${[...LOADED_TABLES, 'enterprises.enterprise', 'product_models.product_model', 'product_models.recall_campaign'].join(', ')}`);
  } catch (error) {
    await session.query('rollback').catch(() => {});
    throw error;
  } finally {
    await session.close();
  }

  const recalledUnits = catalogue.recalls.reduce((sum, r) => sum + Number(r.serialTo) - Number(r.serialFrom) + 1, 0);
  return {
    units,
    events,
    enterprises: catalogue.enterprises.length,
    models: catalogue.models.length,
    recallCampaigns: catalogue.recalls.length,
    recalledUnits,
    unitsByState,
    rows: {
      'enterprises.enterprise': catalogue.enterprises.length,
      'product_models.product_model': catalogue.models.length,
      'product_models.recall_campaign': catalogue.recalls.length,
      'units.serial_counter': catalogue.models.length,
      'units.unit': units,
      'lifecycle.unit_state': states,
      'lifecycle.lifecycle_event': events,
    },
    elapsedMs: performance.now() - started,
  };
}

function checkOptions(o: SeedOptions): void {
  const problems: string[] = [];
  if (!/^[0-9A-Z]{2}$/.test(o.country)) problems.push(`country must be 2 characters of 0-9 A-Z, got ${JSON.stringify(o.country)}`);
  const whole = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max.toLocaleString('en')}, got ${value}`);
  };
  whole('units', o.units, 1, 100_000_000);
  whole('events per unit', o.eventsPerUnit, 0, 1_000);
  whole('enterprises', o.enterprises, 1, 36 ** 3);
  whole('models', o.models, 1, 1_000_000);
  whole('batch size', o.batchSize ?? DEFAULT_BATCH, 1, 100_000);
  for (const [name, share] of [['stolen', o.stolen], ['scrapped', o.scrapped], ['recalled', o.recalled]] as const) {
    if (!(share >= 0 && share <= 1)) problems.push(`the ${name} share must be from 0% to 100%, got ${share}`);
  }
  if (o.stolen + o.scrapped > 1) problems.push('stolen and scrapped units together exceed 100%');
  if (o.eventsPerUnit < 2 && o.stolen + o.scrapped > 0) problems.push('stolen and scrapped units need at least 2 events per unit (MANUFACTURED, then the theft or scrapping)');
  if (!o.database.url && !o.database.dataDir) problems.push('give a Postgres URL or a data directory: an in-memory database would be lost at exit');
  if (problems.length > 0) throw new SeedRefusedError(problems.join('; '));
}

/** Refuses a registry that holds data unless appending; answers whether the unit and event tables are empty. */
async function refuseExistingData(session: BulkSession, options: SeedOptions): Promise<boolean> {
  const [found] = await session.query<{ units: number; events: boolean; other: boolean }>(
    `select (select count(*) from ${UNIT_TABLE})::int as units, exists (select from ${EVENT_TABLE}) or exists (select from ${STATE_TABLE}) as events,
      exists (select from enterprises.enterprise) or exists (select from product_models.product_model) as other`,
  );
  const empty = found!.units === 0 && !found!.events;
  if ((!empty || found!.other) && !options.append) {
    throw new SeedRefusedError(
      `the database already holds registry data (${found!.units.toLocaleString('en')} units); nothing was written. ` +
        'Load into an empty database, or pass --append to add units beside the existing ones',
    );
  }
  return empty;
}

/**
 * Drops every index of the unit, state and event tables, primary keys and unique constraints included,
 * and answers the statements that recreate them. Built once from sorted data at the end, they cost a
 * fraction of keeping them up to date row by row; uniqueness is checked then, and a duplicate fails
 * the whole (still open) transaction.
 */
async function dropIndexesForLoad(session: BulkSession): Promise<string[]> {
  const tables = `array['${LOADED_TABLES.join("'::regclass, '")}'::regclass]`;
  const constraints = await session.query<{ owner: string; name: string; definition: string }>(
    `select conrelid::regclass::text as owner, quote_ident(conname) as name, pg_get_constraintdef(oid) as definition
     from pg_constraint where conrelid = any(${tables}) and contype in ('p', 'u')`,
  );
  const indexes = await session.query<{ name: string; definition: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name, pg_get_indexdef(i.indexrelid) as definition
     from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
     where i.indrelid = any(${tables}) and not exists (select from pg_constraint k where k.conindid = i.indexrelid)`,
  );
  for (const c of constraints) await session.query(`alter table ${c.owner} drop constraint ${c.name}`);
  for (const i of indexes) await session.query(`drop index ${i.name}`);
  return [
    ...constraints.map((c) => `alter table ${c.owner} add constraint ${c.name} ${c.definition}`),
    ...indexes.map((i) => i.definition),
  ];
}

/**
 * Enterprises, models, serial counters and campaigns. On --append, a model that exists keeps its row
 * and its serials continue after the highest one issued; campaigns take the next free numbers.
 */
async function writeCatalogue(session: BulkSession, catalogue: Catalogue, registeredAt: Date): Promise<void> {
  const modelCodes = catalogue.models.map((m) => m.code);
  const taken = await session.query<{ model_code: string; next_serial: string }>(
    `select model_code, max(next_serial)::text as next_serial from (
       select model_code, next_serial from units.serial_counter where model_code = any($1::text[])
       union all
       select model_code, max(serial)::bigint + 1 from ${UNIT_TABLE} where model_code = any($1::text[]) and serial ~ '^[0-9]{17}$' group by model_code
     ) t group by model_code`,
    [modelCodes],
  );
  const next = new Map(taken.map((r) => [r.model_code, Number(r.next_serial)]));
  for (const model of catalogue.models) {
    const first = next.get(model.code) ?? 1;
    // planRecalls counted from serial 1; shift its campaigns onto the serials this run really issues.
    for (const recall of catalogue.recalls.filter((r) => r.model === model.code)) {
      recall.serialFrom = serial(Number(recall.serialFrom) + first - 1);
      recall.serialTo = serial(Number(recall.serialTo) + first - 1);
    }
    model.firstSerial = first;
  }
  const sequences = await session.query<{ model_code: string; last: number }>(
    'select model_code, max(sequence) as last from product_models.recall_campaign where model_code = any($1::text[]) group by model_code',
    [catalogue.recalls.map((r) => r.model)],
  );
  const lastSequence = new Map(sequences.map((r) => [r.model_code, Number(r.last)]));
  for (const recall of catalogue.recalls) recall.sequence = (lastSequence.get(recall.model) ?? 0) + 1;

  const e = catalogue.enterprises;
  await session.query(
    `insert into enterprises.enterprise (code, country, name, registered_at)
     select c, substr(c, 1, 2), n, $3 from unnest($1::text[], $2::text[]) as t(c, n) on conflict (code) do nothing`,
    [e.map((x) => x.code), e.map((x) => x.name), registeredAt.toISOString()],
  );
  const m = catalogue.models;
  await session.query(
    `insert into product_models.product_model (code, enterprise_code, country, name, category, registered_at)
     select c, substr(c, 1, 6), substr(c, 1, 2), n, k, $4 from unnest($1::text[], $2::text[], $3::text[]) as t(c, n, k)
     on conflict (code) do nothing`,
    [modelCodes, m.map((x) => x.name), m.map((x) => x.category), registeredAt.toISOString()],
  );
  // What registerUnits(count) would leave behind: the next numeric serial of each model.
  await session.query(
    `insert into units.serial_counter (model_code, next_serial) select * from unnest($1::text[], $2::bigint[])
     on conflict (model_code) do update set next_serial = greatest(serial_counter.next_serial, excluded.next_serial)`,
    [modelCodes, m.map((x) => String(x.firstSerial + x.unitCount))],
  );
  const r = catalogue.recalls;
  if (r.length > 0) {
    await session.query(
      `insert into product_models.recall_campaign (code, model_code, sequence, serial_from, serial_to, defect, remedy)
       select m || 'R' || lpad(s::text, 4, '0'), m, s, f, t, 'Seeded campaign: actuator overheating', 'Replace the actuator'
       from unnest($1::text[], $2::int[], $3::text[], $4::text[]) as t(m, s, f, t)`,
      [r.map((x) => x.model), r.map((x) => x.sequence), r.map((x) => x.serialFrom), r.map((x) => x.serialTo)],
    );
  }
}
