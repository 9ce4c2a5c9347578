import type { Kysely } from 'kysely';
import type { EnterpriseRow, EnterprisesDb, EnterpriseStatus, EnterpriseStatusChangeRow } from './enterprise-table.js';

/** Returns null when the code is taken, so the caller can say so instead of leaking a SQL error. */
export async function insertEnterprise(
  db: Kysely<EnterprisesDb>,
  enterprise: { code: string; name: string },
): Promise<EnterpriseRow | null> {
  const row = await db
    .insertInto('enterprise')
    .values({ code: enterprise.code, country: enterprise.code.slice(0, 2), name: enterprise.name })
    .onConflict((oc) => oc.column('code').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export interface StatusDecision<Status extends string> {
  status: Status;
  reason: string;
  changedBy: string | null;
  requestId: string;
}

/**
 * Sets the status and appends the decision to the audit trail, atomically. The enterprise row is
 * locked first, so the recorded previous status is the one this decision actually replaced.
 * Returns null when the enterprise is not registered (nothing is written then).
 */
export function changeEnterpriseStatus(
  db: Kysely<EnterprisesDb>,
  code: string,
  decision: StatusDecision<EnterpriseStatus>,
): Promise<EnterpriseRow | null> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('enterprise').select('status').where('code', '=', code).forUpdate().executeTakeFirst();
    if (!current) return null;
    const row = await trx
      .updateTable('enterprise')
      .set({ status: decision.status })
      .where('code', '=', code)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('enterprise_status_change')
      .values({
        enterprise_code: code,
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

/** The audit trail of one enterprise, oldest first. */
export function listEnterpriseStatusChanges(db: Kysely<EnterprisesDb>, code: string): Promise<EnterpriseStatusChangeRow[]> {
  return db.selectFrom('enterprise_status_change').selectAll().where('enterprise_code', '=', code).orderBy('id').execute();
}
