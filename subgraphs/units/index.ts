import type DataLoader from 'dataloader';
import type { GraphQLError } from 'graphql';
import { registryError } from '../../lib/errors.js';
import { formatCode } from '../../lib/identity-code/identity-code.js';
import { ownsCode, readCode, readHomeCode, referenceCode } from '../../lib/subgraph/codes.js';
import { groupedLoader, keyedLoader, pageLoader, type PageRequest } from '../../lib/subgraph/keyed-loader.js';
import { countPerKey, countWhere, findByKeys, pagePerParent } from '../../lib/subgraph/keyed-table.js';
import { resolvePage } from '../../lib/subgraph/pagination.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { migrations } from './migrations.js';
import type { Resolvers } from './resolvers-types.generated.js';
import { assertModelOpen, checkCount, issueSerials, MAX_UNITS_PER_CALL, readSerials, registerSerials } from './unit-issuance.js';
import { issueOnce, readRequestKey, replayIssuance } from './issuance-key.js';
import { readUnitFilter } from './unit-filter.js';
import { countFilteredUnits, countUnitsPerModel, listFilteredUnits } from './unit-repository.js';
import { UNIT, type UnitRow, type UnitsDb } from './unit-table.js';

export interface Loaders {
  unit: DataLoader<string, UnitRow | null>;
  unitsOfModel: DataLoader<PageRequest, UnitRow[], string>;
  unitCountOfModel: DataLoader<string, number>;
  unitCountOfEnterprise: DataLoader<string, number>;
}

export const unitsSubgraph: SubgraphModule<UnitsDb, Loaders, Resolvers> = {
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
      unit(_, { code }, ctx) {
        const canonical = readCode(code, 'unit');
        return ownsCode(canonical, node) ? ctx.loaders.unit.load(canonical) : null;
      },
      units(_, { codes }, ctx) {
        if (codes.length > MAX_UNITS_PER_CALL) {
          throw registryError('LIMIT_EXCEEDED', `at most ${MAX_UNITS_PER_CALL} codes per call, got ${codes.length}`, { max: MAX_UNITS_PER_CALL });
        }
        // An Error as a list item becomes that item's error (null + path units.i); the rest still answers.
        return Promise.all(
          codes.map((code): Promise<UnitRow | null> | GraphQLError | null => {
            let canonical: string;
            try {
              canonical = readCode(code, 'unit');
            } catch (error) {
              return error as GraphQLError;
            }
            return ownsCode(canonical, node) ? ctx.loaders.unit.load(canonical) : null;
          }),
        );
      },
    },
    Mutation: {
      async registerUnits(_, { input }, ctx) {
        const model = readHomeCode(input.model, 'productModel', node);
        const hasSerials = input.serials !== null && input.serials !== undefined;
        const hasCount = input.count !== null && input.count !== undefined;
        if (hasSerials === hasCount) throw registryError('BAD_USER_INPUT', 'give either serials or count, not both or neither');
        const serials = hasSerials ? readSerials(input.serials!) : null;
        const count = hasCount ? checkCount(input.count!) : null;
        const request = readRequestKey(input.requestKey, ctx.caller?.subject ?? '', { model, serials, count });
        // A retry answers what the first call issued, even if the model has closed since.
        const replayed = request && (await replayIssuance(db, request));
        if (replayed) return replayed;
        await assertModelOpen(siblings, model, ctx);
        return issueOnce(db, request, (trx) => (serials ? registerSerials(trx, model, serials) : issueSerials(trx, model, count!)));
      },
    },
    Unit: {
      __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'unit', node);
        return code === null ? null : ctx.loaders.unit.load(code);
      },
      display: (row) => formatCode(row.code),
      model: (row) => ({ code: row.model_code }),
      enterprise: (row) => ({ code: row.enterprise_code }),
      registeredAt: (row) => row.registered_at,
    },
    ProductModel: {
      __resolveReference(ref) {
        const code = referenceCode(ref.code, 'productModel', node);
        return code === null ? null : { code };
      },
      units({ code }, args, ctx) {
        return resolvePage(args, {
          rows: (after, limit) => ctx.loaders.unitsOfModel.load({ parent: code, after, limit }),
          count: () => ctx.loaders.unitCountOfModel.load(code),
          position: (row) => row.code,
        });
      },
      unitCount: ({ code }, _, ctx) => ctx.loaders.unitCountOfModel.load(code),
    },
    Enterprise: {
      __resolveReference(ref) {
        const code = referenceCode(ref.code, 'enterprise', node);
        return code === null ? null : { code };
      },
      unitCount: ({ code }, _, ctx) => ctx.loaders.unitCountOfEnterprise.load(code),
    },
    Registry: {
      __resolveReference(ref) {
        return ref.country === node.country ? { country: node.country } : null;
      },
      units({ country }, args) {
        const filter = readUnitFilter(args.filter);
        return resolvePage(args, {
          rows: (after, limit) => listFilteredUnits(db, country, filter, after, limit),
          count: () => countFilteredUnits(db, country, filter),
          position: (row) => row.code,
        });
      },
      unitCount: ({ country }) => countWhere(db, UNIT, { column: 'country', value: country }),
      async unitsByModel({ country }) {
        const counts = await countUnitsPerModel(db, country);
        return counts.map(({ model, count }) => ({ model: { code: model }, count }));
      },
    },
    Verification: {
      // Through the unit loader: a batch of any size (and any Unit references beside it) is one statement.
      async __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'unit', node);
        if (code === null) return null;
        const unit = await ctx.loaders.unit.load(code);
        return { code, registration: { registered: unit !== null, registeredAt: unit?.registered_at ?? null } };
      },
    },
  }),
};
