import type { KeyedTable } from '../../lib/subgraph/keyed-table.js';
import type { Generated, Selectable } from 'kysely';

/** The Postgres schema this subgraph owns. */
export const SCHEMA = 'units';

export interface UnitTable {
  code: string;
  country: string;
  enterprise_code: string;
  model_code: string;
  serial: string;
  registered_at: Generated<Date>;
}

/** Next serial to try when a manufacturer asks for codes by count; one row per model. */
export interface SerialCounterTable {
  model_code: string;
  next_serial: number;
}

/** One row per client request key: what it asked (a fingerprint) and the units it got, in order. */
export interface IssuanceTable {
  requester: string;
  request_key: string;
  fingerprint: string;
  /** JSON array of unit codes. */
  codes: string;
  created_at: Generated<Date>;
}

export interface UnitsDb {
  unit: UnitTable;
  serial_counter: SerialCounterTable;
  issuance: IssuanceTable;
}

export type UnitRow = Selectable<UnitTable>;
export const UNIT: KeyedTable<UnitsDb, 'unit'> = { schema: SCHEMA, table: 'unit', key: 'code' };
