import type { KeyedTable } from '../../lib/subgraph/keyed-table.js';
import type { Generated, Selectable } from 'kysely';
import type { LifecycleEventType, UnitState } from './state-machine.js';

/** The Postgres schema this subgraph owns; raw SQL names its tables with it (sql.table). */
export const SCHEMA = 'lifecycle';

/** Append-only: the database refuses UPDATE, DELETE and TRUNCATE on it (see migrations.ts). */
export interface LifecycleEventTable {
  event_id: string;
  unit_code: string;
  type: LifecycleEventType;
  occurred_at: Date;
  recorded_at: Generated<Date>;
  /** Position in the unit's history, from 1, gapless. */
  sequence: number;
  state_after: UnitState;
  /** New owner's opaque reference: set exactly for SOLD and OWNERSHIP_TRANSFERRED (since the details migration). */
  owner: string | null;
  /** Country on the other side of the border: destination of EXPORTED, origin of IMPORTED. */
  country: string | null;
  /** Recall campaign code of RECALL_REMEDIED. */
  recall: string | null;
  note: string | null;
  /** Who recorded it (the caller's subject); null for events recorded before access control. */
  recorded_by: Generated<string | null>;
  /**
   * Position in the registry's log of recordings, allocated in commit order (see lockRecordingOrder),
   * so a keyset page over it never skips an event that commits later.
   */
  log_position: Generated<number>;
}

/**
 * The unit's current state, kept beside its events in the same transaction: it is what a write locks
 * to serialise writers of one unit, and what reads fetch in one statement for any number of units.
 */
export interface UnitStateTable {
  unit_code: string;
  state: UnitState;
  /** Set exactly while the unit is STOLEN: RECOVERED returns it there. */
  state_before_theft: UnitState | null;
  /** The sequence of the unit's latest event (0: none yet), so also its event count. */
  last_sequence: number;
  /** occurredAt of its MANUFACTURED event, if any: no later event may say it happened earlier. */
  manufactured_at: Date | null;
  updated_at: Generated<Date>;
}

/** The only tables this subgraph can name: another subgraph's tables are a compile error here. */
export interface LifecycleDb {
  lifecycle_event: LifecycleEventTable;
  unit_state: UnitStateTable;
}

export type LifecycleEventRow = Selectable<LifecycleEventTable>;
export type UnitStateRow = Selectable<UnitStateTable>;
export const UNIT_STATE: KeyedTable<LifecycleDb, 'unit_state'> = { schema: SCHEMA, table: 'unit_state', key: 'unit_code' };
export const LIFECYCLE_EVENT: KeyedTable<LifecycleDb, 'lifecycle_event'> = { schema: SCHEMA, table: 'lifecycle_event', key: 'event_id' };
