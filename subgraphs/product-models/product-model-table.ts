import type { Generated, Selectable } from 'kysely';

/** The Postgres schema this subgraph owns. */
export const SCHEMA = 'product_models';

export type ProductModelStatus = 'ACTIVE' | 'WITHDRAWN';

export interface ProductModelTable {
  code: string;
  enterprise_code: string;
  country: string;
  name: string;
  category: string;
  status: Generated<ProductModelStatus>;
  registered_at: Generated<Date>;
}

export interface ProductModelsDb {
  product_model: ProductModelTable;
}

export type ProductModelRow = Selectable<ProductModelTable>;
