import type DataLoader from 'dataloader';
import type { GraphQLError } from 'graphql';
import { registryError } from '../../lib/errors.js';
import { formatCode } from '../../lib/identity-code/identity-code.js';
import { ownsCode, readCode, readHomeCode, referenceCode } from '../../lib/subgraph/codes.js';
import { groupedLoader, keyedLoader, pageLoader, type PageRequest } from '../../lib/subgraph/keyed-loader.js';
import { countPerKey, countWhere, findByKeys, pagePerParent } from '../../lib/subgraph/keyed-table.js';
import { resolvePage, type PageArgs } from '../../lib/subgraph/pagination.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { SubgraphContext, SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { migrations } from './migrations.js';
import { assertModelOpen, issueSerials, MAX_UNITS_PER_CALL, readSerials, registerSerials, type RegisterUnitsRequest } from './unit-issuance.js';
import { readUnitFilter, type UnitFilterInput } from './unit-filter.js';
import { countFilteredUnits, countUnitsPerModel, listFilteredUnits } from './unit-repository.js';
import { UNIT, type UnitRow, type UnitsDb } from './unit-table.js';

interface Loaders {
  unit: DataLoader<string, UnitRow | null>;
  unitsOfModel: DataLoader<PageRequest, UnitRow[], string>;
  unitCountOfModel: DataLoader<string, number>;
  unitCountOfEnterprise: DataLoader<string, number>;
}
type Context = SubgraphContext<Loaders>;

/** This subgraph's facts for a customs verdict on one unit code. */
interface VerificationFacts {
  code: string;
  registration: { registered: boolean; registeredAt: Date | null };
}

export const unitsSubgraph: SubgraphModule<UnitsDb, Loaders> = {
  name: 'units',
  schema: 'units',
  migrations,
  loaders: ({ db }) => ({
    unit: keyedLoader((codes) => findByKeys(db, UNIT, codes), (row) => row.code),
    unitsOfModel: pageLoader((requests, limit) => pagePerParent(db, UNIT, 'model_code', requests, limit), (row) => row.model_code),
    unitCountOfModel: groupedLoader((codes) => countPerKey(db, UNIT, 'model_code', codes), 0),
    unitCountOfEnterprise: groupedLoader((codes) => countPerKey(db, UNIT, 'enterprise_code', codes), 0),
  }),
  resolvers: ({ db, node, siblings }) => ({
    DateTime,
    Query: {
      unit(_: unknown, { code }: { code: string }, ctx: Context) {
        const canonical = readCode(code, 'unit');
        return ownsCode(canonical, node) ? ctx.loaders.unit.load(canonical) : null;
      },
      units(_: unknown, { codes }: { codes: string[] }, ctx: Context) {
        if (codes.length > MAX_UNITS_PER_CALL) {
          throw registryError('LIMIT_EXCEEDED', `at most ${MAX_UNITS_PER_CALL} codes per call, got ${codes.length}`, { max: MAX_UNITS_PER_CALL });
        }
        // An Error as a list item becomes that item's error (null + path units.i); the rest still answers.
        return codes.map((code): Promise<UnitRow | null> | GraphQLError | null => {
          let canonical: string;
          try {
            canonical = readCode(code, 'unit');
          } catch (error) {
            return error as GraphQLError;
          }
          return ownsCode(canonical, node) ? ctx.loaders.unit.load(canonical) : null;
        });
      },
    },
    Mutation: {
      async registerUnits(_: unknown, { input }: { input: RegisterUnitsRequest }, ctx: Context) {
        const model = readHomeCode(input.model, 'productModel', node);
        const hasSerials = input.serials !== null && input.serials !== undefined;
        const hasCount = input.count !== null && input.count !== undefined;
        if (hasSerials === hasCount) throw registryError('BAD_USER_INPUT', 'give either serials or count, not both or neither');
        const serials = hasSerials ? readSerials(input.serials!) : null;
        await assertModelOpen(siblings, model, ctx);
        return serials ? registerSerials(db, model, serials) : issueSerials(db, model, input.count!);
      },
    },
    Unit: {
      __resolveReference(ref: { code: unknown }, ctx: Context) {
        const code = referenceCode(ref.code, 'unit', node);
        return code === null ? null : ctx.loaders.unit.load(code);
      },
      display: (row: UnitRow) => formatCode(row.code),
      model: (row: UnitRow) => ({ code: row.model_code }),
      enterprise: (row: UnitRow) => ({ code: row.enterprise_code }),
      registeredAt: (row: UnitRow) => row.registered_at,
    },
    ProductModel: {
      __resolveReference(ref: { code: unknown }) {
        const code = referenceCode(ref.code, 'productModel', node);
        return code === null ? null : { code };
      },
      units({ code }: { code: string }, args: PageArgs, ctx: Context) {
        return resolvePage(args, {
          rows: (after, limit) => ctx.loaders.unitsOfModel.load({ parent: code, after, limit }),
          count: () => ctx.loaders.unitCountOfModel.load(code),
          position: (row) => row.code,
        });
      },
      unitCount: ({ code }: { code: string }, _: unknown, ctx: Context) => ctx.loaders.unitCountOfModel.load(code),
    },
    Enterprise: {
      __resolveReference(ref: { code: unknown }) {
        const code = referenceCode(ref.code, 'enterprise', node);
        return code === null ? null : { code };
      },
      unitCount: ({ code }: { code: string }, _: unknown, ctx: Context) => ctx.loaders.unitCountOfEnterprise.load(code),
    },
    Registry: {
      __resolveReference(ref: { country: unknown }) {
        return ref.country === node.country ? { country: node.country } : null;
      },
      units({ country }: { country: string }, args: PageArgs & { filter?: UnitFilterInput | null }) {
        const filter = readUnitFilter(args.filter);
        return resolvePage(args, {
          rows: (after, limit) => listFilteredUnits(db, country, filter, after, limit),
          count: () => countFilteredUnits(db, country, filter),
          position: (row) => row.code,
        });
      },
      unitCount: ({ country }: { country: string }) => countWhere(db, UNIT, { column: 'country', value: country }),
      async unitsByModel({ country }: { country: string }) {
        const counts = await countUnitsPerModel(db, country);
        return counts.map(({ model, count }) => ({ model: { code: model }, count }));
      },
    },
    Verification: {
      // Through the unit loader: a batch of any size (and any Unit references beside it) is one statement.
      async __resolveReference(ref: { code: unknown }, ctx: Context): Promise<VerificationFacts | null> {
        const code = referenceCode(ref.code, 'unit', node);
        if (code === null) return null;
        const unit = await ctx.loaders.unit.load(code);
        return { code, registration: { registered: unit !== null, registeredAt: unit?.registered_at ?? null } };
      },
    },
  }),
};
