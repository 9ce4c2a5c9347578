import { sql, type Kysely } from 'kysely';
import { makeAppendOnly } from './append-only.js';

export interface StatusAuditSpec {
  /** e.g. enterprise_status_change */
  table: string;
  /** The audited row: its key column here and the table.column it references. */
  subject: { column: string; references: string };
  statuses: readonly string[];
}

/**
 * An append-only trail of an authority's status decisions (who, why, which request), for the
 * subgraphs whose entities an authority can suspend or withdraw. An editable trail proves nothing.
 */
export async function createStatusAuditTable(db: Kysely<any>, schema: string, spec: StatusAuditSpec): Promise<void> {
  const status = sql`in (${sql.join(spec.statuses.map((s) => sql.lit(s)))})`;
  await db.schema
    .createTable(spec.table)
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn(spec.subject.column, 'text', (c) => c.notNull().references(spec.subject.references))
    .addColumn('previous_status', 'text', (c) => c.notNull().check(sql`previous_status ${status}`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status ${status}`))
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`length(reason) between 1 and 500`))
    .addColumn('changed_by', 'text')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(`${spec.table}_by_subject`).on(spec.table).columns([spec.subject.column, 'id']).execute();
  await makeAppendOnly(db, schema, spec.table, 'status changes');
}
