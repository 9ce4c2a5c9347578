import { sql, type Insertable, type Kysely, type RawBuilder } from 'kysely';
import { SCHEMA, type LifecycleDb, type LifecycleEventRow, type LifecycleEventTable, type UnitStateRow, type UnitStateTable } from './lifecycle-table.js';
import type { LifecycleEventType, UnitState } from './state-machine.js';

/**
 * Up to `limit` events after `afterSequence` for each unit, oldest first, in ONE statement: a lateral
 * join walks the (unit_code, sequence) index once per unit, so a unit with a long history costs no
 * more than a short one. With a filter, only matching events count (same keyset on sequence).
 */
export function findEventPages(
  db: Kysely<LifecycleDb>,
  codes: readonly string[],
  afterSequence: number,
  limit: number,
  filter?: EventFilter | null,
): Promise<LifecycleEventRow[]> {
  return db
    .selectFrom(sql<{ code: string }>`(select unnest(${[...codes]}::text[]) as code)`.as('wanted'))
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('lifecycle_event')
          .selectAll()
          .whereRef('lifecycle_event.unit_code', '=', 'wanted.code')
          .where('lifecycle_event.sequence', '>', afterSequence)
          .$if(!!filter, (qb) => qb.where(eventFilterCondition(filter)))
          .orderBy('lifecycle_event.sequence')
          .limit(limit)
          .as('event'),
      (join) => join.onTrue(),
    )
    .selectAll('event')
    .orderBy('event.unit_code')
    .orderBy('event.sequence')
    .execute();
}

/**
 * Locks the state rows of these units for the rest of the transaction, creating missing ones, so
 * writers of the same unit queue up here and each sees the state its predecessor committed.
 * Both statements take the rows in unit-code order: two writers sharing several units then always
 * lock them in the same order and cannot deadlock.
 */
export async function lockUnitStates(trx: Kysely<LifecycleDb>, codes: readonly string[]): Promise<UnitStateRow[]> {
  const sorted = [...new Set(codes)].sort();
  if (sorted.length === 0) return [];
  await trx
    .insertInto('unit_state')
    .values(sorted.map((code) => ({ unit_code: code, state: 'REGISTERED' as const, last_sequence: 0 })))
    .onConflict((oc) => oc.column('unit_code').doNothing())
    .execute();
  return trx
    .selectFrom('unit_state')
    .selectAll()
    .where(sql<boolean>`unit_code = any(${sorted}::text[])`)
    .orderBy('unit_code')
    .forUpdate()
    .execute();
}

export function insertEvents(
  trx: Kysely<LifecycleDb>,
  events: Insertable<LifecycleEventTable>[],
): Promise<LifecycleEventRow[]> {
  if (events.length === 0) return Promise.resolve([]);
  return trx.insertInto('lifecycle_event').values(events).returningAll().execute();
}

/** Writes the new states of the units in one statement (their rows exist: lockUnitStates made them). */
export async function saveUnitStates(
  trx: Kysely<LifecycleDb>,
  states: Insertable<UnitStateTable>[],
): Promise<void> {
  if (states.length === 0) return;
  await trx
    .insertInto('unit_state')
    .values(states)
    .onConflict((oc) =>
      oc.column('unit_code').doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        state_before_theft: eb.ref('excluded.state_before_theft'),
        last_sequence: eb.ref('excluded.last_sequence'),
        manufactured_at: eb.ref('excluded.manufactured_at'),
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

/** Advisory lock key of the recording log (any constant no other code of this database uses). */
const RECORDING_LOCK_KEY = sql.lit(7_262_797_309_001);

/**
 * Serialises the tail of write transactions (insert, state update, commit) so that `log_position`s
 * are allocated in commit order: whoever sees an event at position p also sees every event below p
 * that will ever exist, and a keyset page over positions never skips a late committer. Taken after
 * the unit row locks and held only until commit; no writer waits for a row lock while holding it,
 * so it cannot deadlock.
 */
export async function lockRecordingOrder(trx: Kysely<LifecycleDb>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${RECORDING_LOCK_KEY})`.execute(trx);
}

/** A validated EventFilter: absent fields restrict nothing; `types: []` matches no event. */
export interface EventFilter {
  types?: readonly LifecycleEventType[] | null;
  occurredFrom?: Date | null;
  occurredBefore?: Date | null;
}

/** The filter as a condition on unqualified lifecycle_event columns (true when it restricts nothing). */
export function eventFilterCondition(filter: EventFilter | null | undefined): RawBuilder<boolean> {
  const conditions: RawBuilder<unknown>[] = [];
  if (filter?.types) conditions.push(sql`type = any(${[...filter.types]}::text[])`);
  if (filter?.occurredFrom) conditions.push(sql`occurred_at >= ${filter.occurredFrom}`);
  if (filter?.occurredBefore) conditions.push(sql`occurred_at < ${filter.occurredBefore}`);
  return conditions.length === 0 ? sql<boolean>`true` : sql<boolean>`(${sql.join(conditions, sql` and `)})`;
}


/** Events matching the filter, per unit, in one statement; units with none are absent. */
export async function countFilteredEvents(db: Kysely<LifecycleDb>, codes: readonly string[], filter: EventFilter): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('lifecycle_event')
    .select(['unit_code', (eb) => eb.fn.countAll<number>().as('n')])
    .where(sql<boolean>`unit_code = any(${[...codes]}::text[])`)
    .where(eventFilterCondition(filter))
    .groupBy('unit_code')
    .execute();
  return new Map(rows.map((row) => [row.unit_code, Number(row.n)]));
}

export const PROVENANCE_EVENT_TYPES = [
  'SOLD',
  'OWNERSHIP_TRANSFERRED',
  'EXPORTED',
  'IMPORTED',
  'REPAIRED',
  'MAINTAINED',
  'RECALL_REMEDIED',
] as const satisfies readonly LifecycleEventType[];

/** The events provenance is made of, for many units in one statement, by unit then time of occurrence. */
export function findProvenanceEvents(db: Kysely<LifecycleDb>, codes: readonly string[]): Promise<LifecycleEventRow[]> {
  return db
    .selectFrom('lifecycle_event')
    .selectAll()
    .where(sql<boolean>`unit_code = any(${[...codes]}::text[])`)
    .where(sql<boolean>`type = any(${[...PROVENANCE_EVENT_TYPES]}::text[])`)
    .orderBy('unit_code')
    .orderBy('occurred_at')
    .orderBy('sequence')
    .execute();
}

/** Campaign codes remedied on each of these units (RECALL_REMEDIED), in one statement. */
export async function findRemediedRecalls(db: Kysely<LifecycleDb>, codes: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await db
    .selectFrom('lifecycle_event')
    .select(['unit_code', 'recall'])
    .where('type', '=', 'RECALL_REMEDIED')
    .where('recall', 'is not', null)
    .where(sql<boolean>`unit_code = any(${[...codes]}::text[])`)
    .orderBy('unit_code')
    .orderBy('recall')
    .execute();
  const byUnit = new Map<string, string[]>();
  for (const { unit_code, recall } of rows) {
    const list = byUnit.get(unit_code);
    if (list) list.push(recall!);
    else byUnit.set(unit_code, [recall!]);
  }
  return byUnit;
}

export interface VerificationFactsRow {
  unit_code: string;
  state: UnitState;
  remedied: string[];
}

/**
 * What a customs verdict needs from this subgraph, for any number of units in one statement: the
 * state, and the distinct campaigns remedied (through the partial remedy index). Units with no
 * events have no row.
 */
export async function findVerificationFacts(db: Kysely<LifecycleDb>, codes: readonly string[]): Promise<VerificationFactsRow[]> {
  const result = await sql<VerificationFactsRow>`
    select s.unit_code, s.state,
      array(
        select distinct e.recall from ${sql.table(`${SCHEMA}.lifecycle_event`)} e
        where e.unit_code = s.unit_code and e.type = 'RECALL_REMEDIED' and e.recall is not null
        order by e.recall
      ) as remedied
    from ${sql.table(`${SCHEMA}.unit_state`)} s
    where s.unit_code = any(${[...codes]}::text[])`.execute(db);
  return result.rows;
}

/** Units per state among those this subgraph has a row for (units with events). */
export async function countUnitsByState(db: Kysely<LifecycleDb>): Promise<Map<UnitState, number>> {
  const rows = await db
    .selectFrom('unit_state')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return new Map(rows.map((row) => [row.state, Number(row.n)]));
}

/** Matching events per UTC month of occurrence ('YYYY-MM'), oldest first; months without any are absent. */
export async function countEventsPerMonth(db: Kysely<LifecycleDb>, filter: EventFilter): Promise<{ month: string; count: number }[]> {
  // The expression the month statistics are on (migration 2026_12_01_002): with them, a hash of a few dozen groups.
  const month = sql<Date>`date_trunc('month', occurred_at at time zone 'UTC')`;
  const rows = await db
    .selectFrom('lifecycle_event')
    .select([sql<string>`to_char(${month}, 'YYYY-MM')`.as('month'), (eb) => eb.fn.countAll<number>().as('n')])
    .where(eventFilterCondition(filter))
    .groupBy(month)
    .orderBy(month)
    .execute();
  return rows.map((row) => ({ month: row.month, count: Number(row.n) }));
}

/** Events of the registry in recording order after a log position, filtered. */
export function listRecordedEvents(db: Kysely<LifecycleDb>, afterPosition: number, limit: number, filter: EventFilter): Promise<LifecycleEventRow[]> {
  return db
    .selectFrom('lifecycle_event')
    .selectAll()
    .where('log_position', '>', afterPosition)
    .where(eventFilterCondition(filter))
    .orderBy('log_position')
    .limit(limit)
    .execute();
}

export async function countRecordedEvents(db: Kysely<LifecycleDb>, filter: EventFilter): Promise<number> {
  const row = await db
    .selectFrom('lifecycle_event')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(eventFilterCondition(filter))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
