import { sql, type Kysely } from 'kysely';
import {
  SCHEMA,
  type ProductModelRow,
  type ProductModelsDb,
  type ProductModelStatus,
  type ProductModelStatusChangeRow,
} from './product-model-table.js';

export function findProductModels(db: Kysely<ProductModelsDb>, codes: readonly string[]): Promise<ProductModelRow[]> {
  return db
    .selectFrom('product_model')
    .selectAll()
    .where(sql<boolean>`code = any(${[...codes]}::text[])`)
    .execute();
}

export function listProductModelsOfCountry(
  db: Kysely<ProductModelsDb>,
  country: string,
  after: string | null,
  limit: number,
): Promise<ProductModelRow[]> {
  let query = db.selectFrom('product_model').selectAll().where('country', '=', country);
  if (after !== null) query = query.where('code', '>', after);
  return query.orderBy('code').limit(limit).execute();
}

export async function countProductModelsOfCountry(db: Kysely<ProductModelsDb>, country: string): Promise<number> {
  const row = await db
    .selectFrom('product_model')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('country', '=', country)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Raw SQL is not rewritten by Kysely's withSchema, hence the qualified table name.
 * One page of models for each of many enterprises in one statement (a lateral join over the
 * requested enterprises), so a batch of enterprise references is not an N+1.
 */
export async function pageProductModelsOfEnterprises(
  db: Kysely<ProductModelsDb>,
  requests: readonly { enterprise: string; after: string | null }[],
  limit: number,
): Promise<ProductModelRow[]> {
  const enterprises = requests.map((r) => r.enterprise);
  const afters = requests.map((r) => r.after ?? '');
  const result = await sql<ProductModelRow>`
    select m.* from unnest(${enterprises}::text[], ${afters}::text[]) as k(enterprise, after)
    cross join lateral (
      select * from ${sql.table(`${SCHEMA}.product_model`)} m
      where m.enterprise_code = k.enterprise and m.code > k.after
      order by m.code limit ${limit}
    ) m`.execute(db);
  return result.rows;
}

export async function countProductModelsOfEnterprises(
  db: Kysely<ProductModelsDb>,
  enterprises: readonly string[],
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('product_model')
    .select(['enterprise_code', (eb) => eb.fn.countAll<number>().as('n')])
    .where(sql<boolean>`enterprise_code = any(${[...enterprises]}::text[])`)
    .groupBy('enterprise_code')
    .execute();
  return new Map(rows.map((r) => [r.enterprise_code, Number(r.n)]));
}

export async function insertProductModel(
  db: Kysely<ProductModelsDb>,
  model: { code: string; name: string; category: string },
): Promise<ProductModelRow | null> {
  const row = await db
    .insertInto('product_model')
    .values({
      code: model.code,
      enterprise_code: model.code.slice(0, 6),
      country: model.code.slice(0, 2),
      name: model.name,
      category: model.category,
    })
    .onConflict((oc) => oc.column('code').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export interface StatusDecision {
  status: ProductModelStatus;
  reason: string;
  changedBy: string | null;
  requestId: string;
}

/**
 * Sets the status and appends the decision to the audit trail, atomically. The model row is locked
 * first, so the recorded previous status is the one this decision actually replaced.
 * Returns null when the model is not registered (nothing is written then).
 */
export function changeProductModelStatus(db: Kysely<ProductModelsDb>, code: string, decision: StatusDecision): Promise<ProductModelRow | null> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('product_model').select('status').where('code', '=', code).forUpdate().executeTakeFirst();
    if (!current) return null;
    const row = await trx
      .updateTable('product_model')
      .set({ status: decision.status })
      .where('code', '=', code)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('product_model_status_change')
      .values({
        model_code: code,
        previous_status: current.status,
        status: decision.status,
        reason: decision.reason,
        changed_by: decision.changedBy,
        request_id: decision.requestId,
      })
      .execute();
    return row;
  });
}

/** The audit trail of one model, oldest first. */
export function listProductModelStatusChanges(db: Kysely<ProductModelsDb>, code: string): Promise<ProductModelStatusChangeRow[]> {
  return db.selectFrom('product_model_status_change').selectAll().where('model_code', '=', code).orderBy('id').execute();
}
