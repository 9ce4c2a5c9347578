import { registryError } from '../../lib/errors.js';
import { referenceCode } from '../../lib/subgraph/codes.js';
import { decodeCursor, pageLimit, toPage, type PageArgs } from '../../lib/subgraph/pagination.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { SubgraphContext, SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { lifecycleLoaders, type Loaders } from './lifecycle-loaders.js';
import type { LifecycleDb, LifecycleEventRow } from './lifecycle-table.js';
import { migrations } from './migrations.js';
import { recordEvents, type LifecycleEventInput } from './record-events.js';

type Context = SubgraphContext<Loaders>;

/** What this subgraph knows of a unit is its code; everything else is loaded per field, batched. */
interface UnitRef {
  code: string;
}

export const lifecycleSubgraph: SubgraphModule<LifecycleDb, Loaders> = {
  name: 'lifecycle',
  schema: 'lifecycle',
  migrations,
  loaders: ({ db }) => lifecycleLoaders(db),
  resolvers: (deps) => ({
    DateTime,
    Mutation: {
      recordEvents(_: unknown, { events }: { events: LifecycleEventInput[] }, ctx: Context) {
        return recordEvents(deps, events, ctx);
      },
    },
    Unit: {
      // Any well-formed unit of this country has a lifecycle (REGISTERED and empty when it has no
      // events): whether the unit exists is the units subgraph's answer, not ours.
      __resolveReference(ref: { code: unknown }): UnitRef | null {
        const code = referenceCode(ref.code, 'unit', deps.node);
        return code === null ? null : { code };
      },
      async state(unit: UnitRef, _: unknown, ctx: Context) {
        return (await ctx.loaders.unitSummary.load(unit.code)).state;
      },
      async events(unit: UnitRef, args: PageArgs, ctx: Context) {
        const limit = pageLimit(args.first);
        const after = readSequenceCursor(args.after);
        const [summary, rows] = await Promise.all([
          ctx.loaders.unitSummary.load(unit.code),
          ctx.loaders.eventPages.load(unit.code, after, limit + 1),
        ]);
        return toPage(rows, limit, (row) => String(row.sequence), summary.eventCount);
      },
    },
    LifecycleEvent: {
      eventId: (row: LifecycleEventRow) => row.event_id,
      unit: (row: LifecycleEventRow): UnitRef => ({ code: row.unit_code }),
      occurredAt: (row: LifecycleEventRow) => row.occurred_at,
      recordedAt: (row: LifecycleEventRow) => row.recorded_at,
      stateAfter: (row: LifecycleEventRow) => row.state_after,
    },
  }),
};

/** The cursor is the sequence of the last event seen (0 before the first). */
function readSequenceCursor(after: string | null | undefined): number {
  const position = decodeCursor(after);
  if (position === null) return 0;
  if (!/^[1-9]\d{0,9}$/.test(position) || Number(position) > 2_147_483_647) {
    throw registryError('BAD_USER_INPUT', `after is not a cursor returned by this field: ${JSON.stringify(after)}`);
  }
  return Number(position);
}
