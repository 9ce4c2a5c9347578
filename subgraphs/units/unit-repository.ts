import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { UnitFilter } from './unit-filter.js';
import { UNIT, type UnitRow, type UnitsDb } from './unit-table.js';
import { findByKeys } from '../../lib/subgraph/keyed-table.js';

/** Units of a country matching the filter, ordered by code, after the keyset position `after`. */
export function listFilteredUnits(
  db: Kysely<UnitsDb>,
  country: string,
  filter: UnitFilter,
  after: string | null,
  limit: number,
): Promise<UnitRow[]> {
  let query = db.selectFrom('unit').selectAll().where(matching(country, filter));
  if (after !== null) query = query.where('code', '>', after);
  return query.orderBy('code').limit(limit).execute();
}

export async function countFilteredUnits(db: Kysely<UnitsDb>, country: string, filter: UnitFilter): Promise<number> {
  const row = await db
    .selectFrom('unit')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(matching(country, filter))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Units per model of a country, largest first (ties by model code, so the order is stable). */
export async function countUnitsPerModel(db: Kysely<UnitsDb>, country: string): Promise<{ model: string; count: number }[]> {
  const rows = await db
    .selectFrom('unit')
    .select(['model_code', (eb) => eb.fn.countAll<number>().as('n')])
    .where('country', '=', country)
    .groupBy('model_code')
    .orderBy('n', 'desc')
    .orderBy('model_code')
    .execute();
  return rows.map((row) => ({ model: row.model_code, count: Number(row.n) }));
}

function matching(country: string, filter: UnitFilter) {
  return (eb: ExpressionBuilder<UnitsDb, 'unit'>) => {
    const conditions: Expression<SqlBool>[] = [eb('country', '=', country)];
    if (filter.model !== null) conditions.push(eb('model_code', '=', filter.model));
    if (filter.enterprise !== null) conditions.push(eb('enterprise_code', '=', filter.enterprise));
    if (filter.registeredFrom !== null) conditions.push(eb('registered_at', '>=', filter.registeredFrom));
    if (filter.registeredBefore !== null) conditions.push(eb('registered_at', '<', filter.registeredBefore));
    return eb.and(conditions);
  };
}

export async function existingCodes(db: Kysely<UnitsDb>, codes: readonly string[]): Promise<Set<string>> {
  const rows = await findByKeys(db, UNIT, codes);
  return new Set(rows.map((r) => r.code));
}

/** Locks the model's counter row for the rest of the transaction, creating it at 1. */
export async function lockSerialCounter(trx: Transaction<UnitsDb>, model: string): Promise<number> {
  await trx.insertInto('serial_counter').values({ model_code: model, next_serial: 1 }).onConflict((oc) => oc.doNothing()).execute();
  const row = await trx
    .selectFrom('serial_counter')
    .select('next_serial')
    .where('model_code', '=', model)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return Number(row.next_serial);
}

export async function setSerialCounter(trx: Transaction<UnitsDb>, model: string, next: number): Promise<void> {
  await trx.updateTable('serial_counter').set({ next_serial: next }).where('model_code', '=', model).execute();
}

export async function insertUnits(trx: Transaction<UnitsDb>, model: string, serials: readonly string[]): Promise<UnitRow[]> {
  return trx
    .insertInto('unit')
    .values(
      serials.map((serial) => ({
        code: model + serial,
        country: model.slice(0, 2),
        enterprise_code: model.slice(0, 6),
        model_code: model,
        serial,
      })),
    )
    .returningAll()
    .execute();
}
