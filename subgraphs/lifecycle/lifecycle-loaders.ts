import DataLoader from 'dataloader';
import { findByKeys } from '../../lib/subgraph/keyed-table.js';
import type { Kysely } from 'kysely';
import { groupedLoader } from '../../lib/subgraph/keyed-loader.js';
import {
  countFilteredEvents,
  findEventPages,
  findProvenanceEvents,
  findRemediedRecalls,
  findVerificationFacts,
  type EventFilter,
} from './lifecycle-repository.js';
import { UNIT_STATE, type LifecycleDb, type LifecycleEventRow } from './lifecycle-table.js';
import type { UnitState } from './state-machine.js';

export interface UnitSummary {
  state: UnitState;
  /** Number of recorded events (sequences are gapless from 1). */
  eventCount: number;
}

export interface VerificationFacts {
  code: string;
  lifecycleState: UnitState;
  remediedRecalls: string[];
}

export interface Loaders {
  /** A unit with no events has no row: REGISTERED with none. */
  unitSummary: DataLoader<string, UnitSummary>;
  /** Pages of events; units asked for with the same page arguments and filter share one statement. */
  eventPages: EventPageLoaders;
  /** Events matching a filter, per unit; units asked for with the same filter share one statement. */
  filteredEventCounts: FilteredCountLoaders;
  /** The events provenance is built from, by time of occurrence. */
  provenanceEvents: DataLoader<string, LifecycleEventRow[]>;
  /** Campaign codes remedied on the unit. */
  remediedRecalls: DataLoader<string, string[]>;
  /** State and remedied campaigns in one statement, for the customs verdict. */
  verification: DataLoader<string, VerificationFacts>;
}

export interface EventPageLoaders {
  /** Up to `limit` events after `afterSequence` for the unit, oldest first, matching the filter if any. */
  load(code: string, afterSequence: number, limit: number, filter?: EventFilter | null): Promise<LifecycleEventRow[]>;
}

export interface FilteredCountLoaders {
  load(code: string, filter: EventFilter): Promise<number>;
}

export function lifecycleLoaders(db: Kysely<LifecycleDb>): Loaders {
  return {
    unitSummary: groupedLoader(async (codes) => {
      const rows = await findByKeys(db, UNIT_STATE, codes);
      return new Map(rows.map((row) => [row.unit_code, { state: row.state, eventCount: row.last_sequence }]));
    }, { state: 'REGISTERED', eventCount: 0 } satisfies UnitSummary),
    eventPages: eventPageLoaders(db),
    filteredEventCounts: filteredCountLoaders(db),
    provenanceEvents: new DataLoader(async (codes) => groupByUnit(codes, await findProvenanceEvents(db, codes))),
    remediedRecalls: groupedLoader((codes) => findRemediedRecalls(db, codes), [] as string[]),
    verification: new DataLoader(async (codes) => {
      const found = new Map((await findVerificationFacts(db, codes)).map((row) => [row.unit_code, row]));
      return codes.map((code) => {
        const row = found.get(code);
        return { code, lifecycleState: row?.state ?? 'REGISTERED', remediedRecalls: row?.remedied ?? [] };
      });
    }),
  };
}

/**
 * One DataLoader per distinct (after, limit, filter): a gateway resolving `events(first: 10)` on 1,000
 * units sends the same arguments for all of them, so they land in one loader and one statement.
 */
function eventPageLoaders(db: Kysely<LifecycleDb>): EventPageLoaders {
  const byArgs = new Map<string, DataLoader<string, LifecycleEventRow[]>>();
  return {
    load(code, afterSequence, limit, filter) {
      const key = `${afterSequence}:${limit}:${filterKey(filter)}`;
      let loader = byArgs.get(key);
      if (!loader) {
        loader = new DataLoader<string, LifecycleEventRow[]>(async (codes) =>
          groupByUnit(codes, await findEventPages(db, codes, afterSequence, limit, filter)),
        );
        byArgs.set(key, loader);
      }
      return loader.load(code);
    },
  };
}

function filteredCountLoaders(db: Kysely<LifecycleDb>): FilteredCountLoaders {
  const byFilter = new Map<string, DataLoader<string, number>>();
  return {
    load(code, filter) {
      const key = filterKey(filter);
      let loader = byFilter.get(key);
      if (!loader) {
        loader = groupedLoader((codes) => countFilteredEvents(db, codes, filter), 0);
        byFilter.set(key, loader);
      }
      return loader.load(code);
    },
  };
}

function filterKey(filter: EventFilter | null | undefined): string {
  if (!filter) return '';
  return JSON.stringify([filter.types ?? null, filter.occurredFrom?.toISOString() ?? null, filter.occurredBefore?.toISOString() ?? null]);
}

function groupByUnit(codes: readonly string[], rows: LifecycleEventRow[]): LifecycleEventRow[][] {
  const byUnit = new Map<string, LifecycleEventRow[]>();
  for (const row of rows) {
    const list = byUnit.get(row.unit_code);
    if (list) list.push(row);
    else byUnit.set(row.unit_code, [row]);
  }
  return codes.map((code) => byUnit.get(code) ?? []);
}
