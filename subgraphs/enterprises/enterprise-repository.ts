import type { Kysely } from 'kysely';
import { listStatusChanges } from '../../lib/subgraph/status-change.js';
import type { EnterpriseRow, EnterprisesDb, EnterpriseStatusChangeRow } from './enterprise-table.js';

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

/** The audit trail of one enterprise, oldest first. */
export function listEnterpriseStatusChanges(db: Kysely<EnterprisesDb>, code: string): Promise<EnterpriseStatusChangeRow[]> {
  return listStatusChanges(db, 'enterprise_status_change', 'enterprise_code', code);
}
