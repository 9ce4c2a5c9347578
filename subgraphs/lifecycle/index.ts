import { registryError } from '../../lib/errors.js';
import { referenceCode } from '../../lib/subgraph/codes.js';
import { countWhere, listAfter } from '../../lib/subgraph/keyed-table.js';
import { listPageSource, resolvePage } from '../../lib/subgraph/pagination.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { assertMonthRange, monthlySeries, readCodeCursor, readEventFilter, readIntegerCursor, stateCounts } from './analytics.js';
import { lifecycleLoaders, type Loaders } from './lifecycle-loaders.js';
import {
  countEventsPerMonth,
  countRecordedEvents,
  countUnitsByState,
  listRecordedEvents,
} from './lifecycle-repository.js';
import { UNIT_STATE, type LifecycleDb } from './lifecycle-table.js';
import { migrations } from './migrations.js';
import type { Resolvers } from './resolvers-types.generated.js';
import { buildProvenance } from './provenance.js';
import { recordEvents } from './record-events.js';

/**
 * What this subgraph knows of a unit is its code; everything else is loaded per field, batched.
 * `recalls` is the unit's recall campaigns as the gateway sends them for `openRecalls`
 * (@requires: they are the product-models subgraph's).
 */
export interface UnitRef {
  code: string;
  recalls?: unknown;
}

/** `unitCount` comes from the units subgraph in the representation, for `unitsByState` (@requires). */
export interface RegistryRef {
  country: string;
  unitCount?: unknown;
}

const MAX_SEQUENCE = 2_147_483_647;

export const lifecycleSubgraph: SubgraphModule<LifecycleDb, Loaders, Resolvers> = {
  name: 'lifecycle',
  schema: 'lifecycle',
  migrations,
  loaders: ({ db }) => lifecycleLoaders(db),
  resolvers: (deps) => ({
    DateTime,
    Mutation: {
      recordEvents(_, { events }, ctx) {
        return recordEvents(deps, events, ctx);
      },
    },
    Unit: {
      // Any well-formed unit of this country has a lifecycle (REGISTERED and empty when it has no
      // events): whether the unit exists is the units subgraph's answer, not ours.
      __resolveReference(ref): UnitRef | null {
        const code = referenceCode(ref.code, 'unit', deps.node);
        if (code === null) return null;
        return ref.recalls === undefined ? { code } : { code, recalls: ref.recalls };
      },
      async state(unit, _, ctx) {
        return (await ctx.loaders.unitSummary.load(unit.code)).state;
      },
      events(unit, args, ctx) {
        const filter = readEventFilter(args.filter);
        return resolvePage(args, {
          rows: (after, limit) => ctx.loaders.eventPages.load(unit.code, after, limit, filter),
          // Unfiltered, the count is the unit's last sequence (no event scan); filtered, it is counted.
          count: () => (filter ? ctx.loaders.filteredEventCounts.load(unit.code, filter) : ctx.loaders.unitSummary.load(unit.code).then((s) => s.eventCount)),
          position: (row) => String(row.sequence),
        }, (cursor: string | null | undefined) => readIntegerCursor(cursor, MAX_SEQUENCE));
      },
      async provenance(unit, _, ctx) {
        return buildProvenance(await ctx.loaders.provenanceEvents.load(unit.code));
      },
      async openRecalls(unit, _, ctx) {
        const recalls = readRecalls(unit);
        const open = recalls.filter((recall) => recall.closedAt === null || recall.closedAt === undefined);
        if (open.length === 0) return [];
        const remedied = new Set(await ctx.loaders.remediedRecalls.load(unit.code));
        return open.filter((recall) => !remedied.has(recall.code)).map((recall) => ({ code: recall.code }));
      },
    },
    // Built whole from the unit's events (one batched statement), then paged; an item's cursor is its event id.
    Provenance: {
      pagedOwners: (p, args) => resolvePage(args, listPageSource(p.owners, (o) => o.eventId)),
      pagedBorderCrossings: (p, args) => resolvePage(args, listPageSource(p.borderCrossings, (b) => b.eventId)),
      pagedRepairs: (p, args) => resolvePage(args, listPageSource(p.repairs, (e) => e.event_id)),
      pagedRemedies: (p, args) => resolvePage(args, listPageSource(p.remedies, (e) => e.event_id)),
    },
    LifecycleEvent: {
      eventId: (row) => row.event_id,
      unit: (row) => ({ code: row.unit_code }),
      occurredAt: (row) => row.occurred_at,
      recordedAt: (row) => row.recorded_at,
      stateAfter: (row) => row.state_after,
      recordedBy: (row) => row.recorded_by,
    },
    Verification: {
      // The key is a unit code; only a canonical one of this country has facts here (REGISTERED and
      // no remedies when it has no events), anything else is null like any unknown entity.
      __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'unit', deps.node);
        return code === null ? null : ctx.loaders.verification.load(code);
      },
    },
    Registry: {
      __resolveReference(ref): RegistryRef | null {
        return ref.country === deps.node.country ? { country: deps.node.country, unitCount: ref.unitCount } : null;
      },
      unitsInState(_, args) {
        const inState = { column: 'state', value: args.state } as const;
        return resolvePage(args, {
          rows: async (after, limit) => (await listAfter(deps.db, UNIT_STATE, inState, after, limit)).map((row): UnitRef => ({ code: row.unit_code })),
          count: () => countWhere(deps.db, UNIT_STATE, inState),
          position: (unit) => unit.code,
        }, readCodeCursor);
      },
      async unitsByState(registry) {
        if (registry.unitCount === null) {
          // The units service of this registry could not answer: REGISTERED cannot be counted without it.
          throw registryError('REGISTRY_UNAVAILABLE', 'unitsByState needs the registry\'s unitCount, which its units service did not give');
        }
        if (typeof registry.unitCount !== 'number') {
          throw registryError('BAD_USER_INPUT', 'unitsByState needs the registry\'s unitCount (from the units subgraph) in the representation');
        }
        return stateCounts(registry.unitCount, await countUnitsByState(deps.db));
      },
      async eventsPerMonth(_, args) {
        const filter = readEventFilter({ types: args.types, occurredFrom: args.from, occurredBefore: args.before });
        const from = args.from ?? null;
        const before = args.before ?? null;
        assertMonthRange(from, before);
        if (from && before && from.getTime() === before.getTime()) return [];
        return monthlySeries(await countEventsPerMonth(deps.db, filter ?? {}), from, before, new Date());
      },
      events(_, args) {
        const filter = readEventFilter(args.filter) ?? {};
        return resolvePage(args, {
          rows: (after, limit) => listRecordedEvents(deps.db, after, limit, filter),
          count: () => countRecordedEvents(deps.db, filter),
          position: (row) => String(row.log_position),
        }, (cursor: string | null | undefined) => readIntegerCursor(cursor, Number.MAX_SAFE_INTEGER));
      },
    },
  }),
};

interface RecallRef {
  code: string;
  closedAt?: unknown;
}

/** The unit's recall campaigns from the representation; without them openRecalls cannot be answered. */
function readRecalls(unit: UnitRef): RecallRef[] {
  const recalls = unit.recalls;
  if (!Array.isArray(recalls) || !recalls.every((r): r is RecallRef => typeof r === 'object' && r !== null && typeof (r as RecallRef).code === 'string')) {
    throw registryError('BAD_USER_INPUT', 'openRecalls needs the unit\'s recalls { code closedAt } (from the product-models subgraph) in the representation');
  }
  return recalls;
}
