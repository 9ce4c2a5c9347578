import type { Kysely } from 'kysely';
import {
  type ProductModelRow,
  type ProductModelsDb,
  type ProductModelStatus,
  type ProductModelStatusChangeRow,
} from './product-model-table.js';

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
