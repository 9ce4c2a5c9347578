import type { Kysely } from 'kysely';
import { listStatusChanges } from '../../lib/subgraph/status-change.js';
import type { ProductModelRow, ProductModelsDb, ProductModelStatusChangeRow } from './product-model-table.js';

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

/** The audit trail of one model, oldest first. */
export function listProductModelStatusChanges(db: Kysely<ProductModelsDb>, code: string): Promise<ProductModelStatusChangeRow[]> {
  return listStatusChanges(db, 'product_model_status_change', 'model_code', code);
}
