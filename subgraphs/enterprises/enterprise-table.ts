import type { KeyedTable } from '../../lib/subgraph/keyed-table.js';
import type { AuditedTable } from '../../lib/subgraph/status-change.js';
import type { Generated, Selectable } from 'kysely';

/** The Postgres schema this subgraph owns. */
export const SCHEMA = 'enterprises';

export type EnterpriseStatus = 'ACTIVE' | 'SUSPENDED' | 'REVOKED';

export interface EnterpriseTable {
  code: string;
  country: string;
  name: string;
  status: Generated<EnterpriseStatus>;
  registered_at: Generated<Date>;
}

/** Append-only audit trail of authority decisions on an enterprise's status (the database refuses edits). */
export interface EnterpriseStatusChangeTable {
  id: Generated<number>;
  enterprise_code: string;
  previous_status: EnterpriseStatus;
  status: EnterpriseStatus;
  reason: string;
  /** The caller's id once access control exists; null until then. */
  changed_by: string | null;
  request_id: string;
  changed_at: Generated<Date>;
}

/** The only tables this subgraph can name: another subgraph's tables are a compile error here. */
export interface EnterprisesDb {
  enterprise: EnterpriseTable;
  enterprise_status_change: EnterpriseStatusChangeTable;
}

export type EnterpriseRow = Selectable<EnterpriseTable>;
export const ENTERPRISE: KeyedTable<EnterprisesDb, 'enterprise'> = { schema: SCHEMA, table: 'enterprise', key: 'code' };
export const ENTERPRISE_STATUS: AuditedTable<EnterprisesDb, 'enterprise'> = { table: ENTERPRISE, audit: 'enterprise_status_change', subject: 'enterprise_code' };
export type EnterpriseStatusChangeRow = Selectable<EnterpriseStatusChangeTable>;
