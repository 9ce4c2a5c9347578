import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import { groupedLoader } from '../../lib/subgraph/keyed-loader.js';
import { findEventPages, findUnitStates } from './lifecycle-repository.js';
import type { LifecycleDb, LifecycleEventRow } from './lifecycle-table.js';
import type { UnitState } from './state-machine.js';

export interface UnitSummary {
  state: UnitState;
  /** Number of recorded events (sequences are gapless from 1). */
  eventCount: number;
}

export interface Loaders {
  /** A unit with no events has no row: REGISTERED with none. */
  unitSummary: DataLoader<string, UnitSummary>;
  /** Pages of events; units asked for with the same page arguments share one statement. */
  eventPages: EventPageLoaders;
}

export interface EventPageLoaders {
  /** Up to `limit` events after `afterSequence` for the unit, oldest first. */
  load(code: string, afterSequence: number, limit: number): Promise<LifecycleEventRow[]>;
}

export function lifecycleLoaders(db: Kysely<LifecycleDb>): Loaders {
  return {
    unitSummary: groupedLoader(async (codes) => {
      const rows = await findUnitStates(db, codes);
      return new Map(rows.map((row) => [row.unit_code, { state: row.state, eventCount: row.last_sequence }]));
    }, { state: 'REGISTERED', eventCount: 0 } satisfies UnitSummary),
    eventPages: eventPageLoaders(db),
  };
}

/**
 * One DataLoader per distinct (after, limit): a gateway resolving `events(first: 10)` on 1,000 units
 * sends the same arguments for all of them, so they land in one loader and one statement.
 */
function eventPageLoaders(db: Kysely<LifecycleDb>): EventPageLoaders {
  const byArgs = new Map<string, DataLoader<string, LifecycleEventRow[]>>();
  return {
    load(code, afterSequence, limit) {
      const key = `${afterSequence}:${limit}`;
      let loader = byArgs.get(key);
      if (!loader) {
        loader = new DataLoader<string, LifecycleEventRow[]>(async (codes) => {
          const rows = await findEventPages(db, codes, afterSequence, limit);
          const byUnit = new Map<string, LifecycleEventRow[]>();
          for (const row of rows) {
            const list = byUnit.get(row.unit_code);
            if (list) list.push(row);
            else byUnit.set(row.unit_code, [row]);
          }
          return codes.map((c) => byUnit.get(c) ?? []);
        });
        byArgs.set(key, loader);
      }
      return loader.load(code);
    },
  };
}
