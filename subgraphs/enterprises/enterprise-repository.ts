import { sql, type Kysely } from 'kysely';
import type { EnterpriseRow, EnterprisesDb } from './enterprise-table.js';

/** One statement for any number of codes; rows come back in no particular order. */
export function findEnterprises(db: Kysely<EnterprisesDb>, codes: readonly string[]): Promise<EnterpriseRow[]> {
  return db
    .selectFrom('enterprise')
    .selectAll()
    .where(sql<boolean>`code = any(${[...codes]}::text[])`)
    .execute();
}

export function listEnterprises(
  db: Kysely<EnterprisesDb>,
  country: string,
  after: string | null,
  limit: number,
): Promise<EnterpriseRow[]> {
  let query = db.selectFrom('enterprise').selectAll().where('country', '=', country);
  if (after !== null) query = query.where('code', '>', after);
  return query.orderBy('code').limit(limit).execute();
}

export async function countEnterprises(db: Kysely<EnterprisesDb>, country: string): Promise<number> {
  const row = await db
    .selectFrom('enterprise')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('country', '=', country)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

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
