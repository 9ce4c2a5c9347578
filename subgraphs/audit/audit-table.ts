import type { Generated, Insertable, Selectable } from 'kysely';

/** The Postgres schema this subgraph owns. */
export const SCHEMA = 'audit';

/** One audited request (append-only: the database refuses updates, deletes and truncates). */
export interface AuditEntryTable {
  id: Generated<string>;
  at: Date;
  request_id: string;
  subject: string | null;
  role: string | null;
  country: string | null;
  enterprise: string | null;
  operation_type: string;
  operation_name: string | null;
  fields: string[];
  codes: string[];
  verdicts: string[];
  outcome: string;
  recorded_at: Generated<Date>;
}

export interface AuditDb {
  audit_entry: AuditEntryTable;
}

export type AuditEntryRow = Selectable<AuditEntryTable>;
export type NewAuditEntry = Insertable<AuditEntryTable>;
