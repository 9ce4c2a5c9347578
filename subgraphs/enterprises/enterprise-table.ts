import type { Generated, Selectable } from 'kysely';

export type EnterpriseStatus = 'ACTIVE' | 'SUSPENDED' | 'REVOKED';

export interface EnterpriseTable {
  code: string;
  country: string;
  name: string;
  status: Generated<EnterpriseStatus>;
  registered_at: Generated<Date>;
}

/** The only tables this subgraph can name: another subgraph's tables are a compile error here. */
export interface EnterprisesDb {
  enterprise: EnterpriseTable;
}

export type EnterpriseRow = Selectable<EnterpriseTable>;
