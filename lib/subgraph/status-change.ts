import { sql, type Kysely } from 'kysely';
import type DataLoader from 'dataloader';
import { groupedLoader } from './keyed-loader.js';
import { untyped, type KeyedTable, type RowOf, type TableName } from './keyed-table.js';

/** An authority's decision on an entity's status, as its audit trail records it. */
export interface StatusDecision<Status extends string> {
  status: Status;
  reason: string;
  changedBy: string | null;
  requestId: string;
}

/** A table with a `status` column and its append-only audit trail (lib/database/status-audit.ts). */
export interface AuditedTable<DB, T extends TableName<DB>> {
  table: KeyedTable<DB, T>;
  audit: TableName<DB>;
  /** The audit trail's column holding the entity's key. */
  subject: string;
}

/**
 * Sets the status and appends the decision to the audit trail, atomically. The row is locked first,
 * so the recorded previous status is the one this decision actually replaced.
 * Returns null when no row has that key (nothing is written then).
 */
export async function changeStatus<DB, T extends TableName<DB>, Status extends string>(
  db: Kysely<DB>,
  spec: AuditedTable<DB, T>,
  code: string,
  decision: StatusDecision<Status>,
  /** Runs in the same transaction after the change (the alert outbox: lib/alerts/outbox.ts). */
  alongside?: (trx: Kysely<any>, previousStatus: string) => Promise<void>,
): Promise<RowOf<DB, T> | null> {
  const table: string = spec.table.table;
  const key: string = spec.table.key;
  const row = await untyped(db).transaction().execute(async (trx) => {
    const current = await trx.selectFrom(table).select('status').where(key, '=', code).forUpdate().executeTakeFirst();
    if (!current) return null;
    const updated = await trx.updateTable(table).set({ status: decision.status }).where(key, '=', code).returningAll().executeTakeFirstOrThrow();
    await trx
      .insertInto(spec.audit)
      .values({
        [spec.subject]: code,
        previous_status: current.status,
        status: decision.status,
        reason: decision.reason,
        changed_by: decision.changedBy,
        request_id: decision.requestId,
      })
      .execute();
    await alongside?.(trx, current.status);
    return updated;
  });
  return row as RowOf<DB, T> | null;
}

/** The audit trail of one entity, oldest first. */
export async function listStatusChanges<DB, A extends TableName<DB>>(db: Kysely<DB>, audit: A, subject: string, code: string): Promise<RowOf<DB, A>[]> {
  const rows = await untyped(db).selectFrom(audit).selectAll().where(subject, '=', code).orderBy('id').execute();
  return rows as RowOf<DB, A>[];
}

/** The audit trails of many entities in one statement, oldest first: for a per-request DataLoader. */
export async function findStatusChanges<DB, A extends TableName<DB>>(db: Kysely<DB>, audit: A, subject: string, codes: readonly string[]): Promise<RowOf<DB, A>[]> {
  const rows = await untyped(db).selectFrom(audit).selectAll().where(sql<boolean>`${sql.ref(subject)} = any(${[...codes]}::text[])`).orderBy('id').execute();
  return rows as RowOf<DB, A>[];
}

/** Per request: each entity's status changes (oldest first), for any number of entities in one statement. */
export function statusChangesLoader<DB, T extends TableName<DB>>(db: Kysely<DB>, spec: AuditedTable<DB, T>): DataLoader<string, RowOf<DB, TableName<DB>>[]> {
  return groupedLoader(async (codes) => {
    const byCode = new Map<string, RowOf<DB, TableName<DB>>[]>();
    for (const row of await findStatusChanges(db, spec.audit, spec.subject, codes)) {
      const code = (row as Record<string, unknown>)[spec.subject] as string;
      const rows = byCode.get(code);
      if (rows) rows.push(row);
      else byCode.set(code, [row]);
    }
    return byCode;
  }, []);
}
