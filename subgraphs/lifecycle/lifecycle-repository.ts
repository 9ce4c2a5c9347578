import { sql, type Insertable, type Kysely } from 'kysely';
import type { LifecycleDb, LifecycleEventRow, LifecycleEventTable, UnitStateRow, UnitStateTable } from './lifecycle-table.js';

/** One statement for any number of units; units with no row yet are simply absent. */
export function findUnitStates(db: Kysely<LifecycleDb>, codes: readonly string[]): Promise<UnitStateRow[]> {
  return db
    .selectFrom('unit_state')
    .selectAll()
    .where(sql<boolean>`unit_code = any(${[...codes]}::text[])`)
    .execute();
}

/**
 * Up to `limit` events after `afterSequence` for each unit, oldest first, in ONE statement: a lateral
 * join walks the (unit_code, sequence) index once per unit, so a unit with a long history costs no
 * more than a short one.
 */
export function findEventPages(
  db: Kysely<LifecycleDb>,
  codes: readonly string[],
  afterSequence: number,
  limit: number,
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

export function findEventsById(db: Kysely<LifecycleDb>, eventIds: readonly string[]): Promise<LifecycleEventRow[]> {
  return db
    .selectFrom('lifecycle_event')
    .selectAll()
    .where(sql<boolean>`event_id = any(${[...eventIds]}::text[])`)
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
