import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { AuditDb, AuditEntryRow, NewAuditEntry } from './audit-table.js';

export interface AuditFilter {
  subject: string | null;
  role: string | null;
  country: string | null;
  code: string | null;
  operationType: string | null;
  from: Date | null;
  before: Date | null;
}

/** One statement for a batch of entries. */
export async function appendEntries(db: Kysely<AuditDb>, entries: readonly NewAuditEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const result = await db.insertInto('audit_entry').values([...entries]).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? entries.length);
}

/** Newest first, keyset on the id (`before` an id: the cursor). */
export function listEntries(db: Kysely<AuditDb>, filter: AuditFilter, beforeId: string | null, limit: number): Promise<AuditEntryRow[]> {
  let query = db.selectFrom('audit_entry').selectAll().where(matching(filter));
  if (beforeId !== null) query = query.where('id', '<', beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

export async function countEntries(db: Kysely<AuditDb>, filter: AuditFilter): Promise<number> {
  const row = await db
    .selectFrom('audit_entry')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(matching(filter))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function matching(filter: AuditFilter) {
  return (eb: ExpressionBuilder<AuditDb, 'audit_entry'>) => {
    const conditions: Expression<SqlBool>[] = [];
    if (filter.subject !== null) conditions.push(eb('subject', '=', filter.subject));
    if (filter.role !== null) conditions.push(eb('role', '=', filter.role));
    if (filter.country !== null) conditions.push(eb('country', '=', filter.country));
    if (filter.operationType !== null) conditions.push(eb('operation_type', '=', filter.operationType));
    if (filter.code !== null) conditions.push(sql<SqlBool>`${sql.ref('codes')} @> ${sql.val([filter.code])}::text[]`);
    if (filter.from !== null) conditions.push(eb('at', '>=', filter.from));
    if (filter.before !== null) conditions.push(eb('at', '<', filter.before));
    return eb.and(conditions);
  };
}
