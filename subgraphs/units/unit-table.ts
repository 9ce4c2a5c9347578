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

export interface UnitsDb {
  unit: UnitTable;
  serial_counter: SerialCounterTable;
}

export type UnitRow = Selectable<UnitTable>;
export const UNIT: KeyedTable<UnitsDb, 'unit'> = { schema: SCHEMA, table: 'unit', key: 'code' };
