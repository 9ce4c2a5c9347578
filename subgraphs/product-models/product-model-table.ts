import type { KeyedTable } from '../../lib/subgraph/keyed-table.js';
import type { AuditedTable } from '../../lib/subgraph/status-change.js';
import type { Generated, Selectable } from 'kysely';
import type { RecallCampaignTable } from './recall-campaign-table.js';

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

/** Append-only audit trail of authority decisions on a model's status (the database refuses edits). */
export interface ProductModelStatusChangeTable {
  id: Generated<number>;
  model_code: string;
  previous_status: ProductModelStatus;
  status: ProductModelStatus;
  reason: string;
  /** The caller's id once access control exists; null until then. */
  changed_by: string | null;
  request_id: string;
  changed_at: Generated<Date>;
}

export interface ProductModelsDb {
  product_model: ProductModelTable;
  product_model_status_change: ProductModelStatusChangeTable;
  recall_campaign: RecallCampaignTable;
}

export type ProductModelRow = Selectable<ProductModelTable>;
export const PRODUCT_MODEL: KeyedTable<ProductModelsDb, 'product_model'> = { schema: SCHEMA, table: 'product_model', key: 'code' };
export const PRODUCT_MODEL_STATUS: AuditedTable<ProductModelsDb, 'product_model'> = { table: PRODUCT_MODEL, audit: 'product_model_status_change', subject: 'model_code' };
export const RECALL_CAMPAIGN: KeyedTable<ProductModelsDb, 'recall_campaign'> = { schema: SCHEMA, table: 'recall_campaign', key: 'code' };
export type ProductModelStatusChangeRow = Selectable<ProductModelStatusChangeTable>;
