import type DataLoader from 'dataloader';
import { registryError } from '../../lib/errors.js';
import { formatCode } from '../../lib/identity-code/identity-code.js';
import { ownsCode, readCode, readHomeCode, referenceCode } from '../../lib/subgraph/codes.js';
import { groupedLoader, keyedLoader, pageLoader, type PageRequest } from '../../lib/subgraph/keyed-loader.js';
import { countPerKey, findByKeys, pagePerParent, resolveTablePage } from '../../lib/subgraph/keyed-table.js';
import { listPageSource, resolvePage } from '../../lib/subgraph/pagination.js';
import { readReason, readText } from '../../lib/subgraph/text.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { CodeRef, SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { migrations } from './migrations.js';
import type { Resolvers } from './resolvers-types.generated.js';
import { insertProductModel } from './product-model-repository.js';
import { enqueueAlerts } from '../../lib/alerts/outbox.js';
import { changeStatus, statusChangesLoader } from '../../lib/subgraph/status-change.js';
import { PRODUCT_MODEL, PRODUCT_MODEL_STATUS, RECALL_CAMPAIGN, type ProductModelRow, type ProductModelsDb, type ProductModelStatusChangeRow } from './product-model-table.js';
import { findRecallsOfModels, findRecallsOfUnits, findVerificationFacts, type VerificationFactsRow } from './recall-campaign-repository.js';
import type { RecallCampaignRow } from './recall-campaign-table.js';
import { closeRecall, openRecall, recallReferenceCode } from './recall-campaigns.js';

export interface Loaders {
  model: DataLoader<string, ProductModelRow | null>;
  modelsOfEnterprise: DataLoader<PageRequest, ProductModelRow[], string>;
  modelCountOfEnterprise: DataLoader<string, number>;
  recall: DataLoader<string, RecallCampaignRow | null>;
  /** Newest first. */
  recallsOfModel: DataLoader<string, RecallCampaignRow[]>;
  /** Keyed by unit code; oldest first. */
  recallsOfUnit: DataLoader<string, RecallCampaignRow[]>;
  /** Keyed by unit code; every key gets a row (the statement left-joins from the requested codes). */
  verification: DataLoader<string, VerificationFactsRow | null>;
  /** Keyed by model code; oldest first. */
  statusChanges: DataLoader<string, ProductModelStatusChangeRow[]>;
}

export const productModelsSubgraph: SubgraphModule<ProductModelsDb, Loaders, Resolvers> = {
  name: 'product-models',
  schema: 'product_models',
  migrations,
  loaders: ({ db }) => ({
    model: keyedLoader((codes) => findByKeys(db, PRODUCT_MODEL, codes), (row) => row.code),
    statusChanges: statusChangesLoader(db, PRODUCT_MODEL_STATUS) as DataLoader<string, ProductModelStatusChangeRow[]>,
    modelsOfEnterprise: pageLoader((requests, limit) => pagePerParent(db, PRODUCT_MODEL, 'enterprise_code', requests, limit), (row) => row.enterprise_code),
    modelCountOfEnterprise: groupedLoader((codes) => countPerKey(db, PRODUCT_MODEL, 'enterprise_code', codes), 0),
    recall: keyedLoader((codes) => findByKeys(db, RECALL_CAMPAIGN, codes), (row) => row.code),
    recallsOfModel: groupedLoader(async (models) => groupBy(await findRecallsOfModels(db, models), (row) => row.model_code), []),
    recallsOfUnit: groupedLoader(async (units) => groupBy(await findRecallsOfUnits(db, units), (row) => row.unit_code), []),
    verification: keyedLoader((units) => findVerificationFacts(db, units), (row) => row.unit_code),
  }),
  resolvers: ({ db, node, siblings }) => ({
    DateTime,
    Query: {
      productModel(_, { code }, ctx) {
        const canonical = readCode(code, 'productModel');
        return ownsCode(canonical, node) ? ctx.loaders.model.load(canonical) : null;
      },
    },
    Mutation: {
      async registerProductModel(_, { input }, ctx) {
        const code = readHomeCode(input.code, 'productModel', node);
        const name = readText(input.name, 'name', 200, 'product model name');
        const category = readText(input.category, 'category', 100, 'product model category');
        const enterpriseCode = code.slice(0, 6);
        const [enterprise] = await siblings.lookup<{ status: string }>('enterprises', 'Enterprise', [enterpriseCode], 'status', ctx);
        if (!enterprise) {
          throw registryError('UNKNOWN_ENTERPRISE', `enterprise ${enterpriseCode} is not registered; register it before its models`, { input: enterpriseCode });
        }
        if (enterprise.status !== 'ACTIVE') {
          throw registryError('ENTERPRISE_NOT_ACTIVE', `enterprise ${enterpriseCode} is ${enterprise.status}; it cannot register models`, { input: enterpriseCode, status: enterprise.status });
        }
        const row = await insertProductModel(db, { code, name, category });
        if (!row) throw registryError('ALREADY_REGISTERED', `product model ${code} is already registered`, { input: code });
        return row;
      },
      openRecall: (_, { input }) => openRecall(db, node, input),
      closeRecall: (_, { code }) => closeRecall(db, node, code),
      async setProductModelStatus(_, args, ctx) {
        const code = readHomeCode(args.code, 'productModel', node);
        const reason = readReason(args.reason);
        const row = await changeStatus(db, PRODUCT_MODEL_STATUS, code, {
          status: args.status,
          reason,
          changedBy: ctx.caller?.subject ?? null,
          requestId: ctx.requestId,
        }, (trx, previous) =>
          // Partners hear of a withdrawal (docs/alerts.md), in the decision's own transaction.
          args.status === 'WITHDRAWN' && previous !== 'WITHDRAWN'
            ? enqueueAlerts(trx, [{ kind: 'MODEL_WITHDRAWN', subject: code, occurredAt: new Date(), facts: { status: args.status, previousStatus: previous, reason } }])
            : Promise.resolve(),
        );
        if (!row) throw registryError('UNKNOWN_MODEL', `product model ${code} is not registered`, { input: code });
        return row;
      },
    },
    ProductModel: {
      __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'productModel', node);
        return code === null ? null : ctx.loaders.model.load(code);
      },
      display: (row) => formatCode(row.code),
      enterprise: (row) => ({ code: row.enterprise_code }),
      registeredAt: (row) => row.registered_at,
      recalls: (row, _, ctx) => ctx.loaders.recallsOfModel.load(row.code),
      async statusHistory(row, args, ctx) {
        return resolvePage(args, listPageSource(await ctx.loaders.statusChanges.load(row.code), (change) => String(change.id)));
      },
    },
    ProductModelStatusChange: {
      previousStatus: (row) => row.previous_status,
      changedAt: (row) => row.changed_at,
    },
    RecallCampaign: {
      __resolveReference(ref, ctx) {
        const code = recallReferenceCode(ref.code, node);
        return code === null ? null : ctx.loaders.recall.load(code);
      },
      async model(row, _, ctx) {
        // The foreign key guarantees the model exists.
        return (await ctx.loaders.model.load(row.model_code))!;
      },
      serialFrom: (row) => row.serial_from,
      serialTo: (row) => row.serial_to,
      openedAt: (row) => row.opened_at,
      closedAt: (row) => row.closed_at,
    },
    Unit: {
      // Whether the unit exists is the units subgraph's answer: any unit code of this country has
      // the recalls its model and serial fall under.
      __resolveReference(ref): CodeRef | null {
        const code = referenceCode(ref.code, 'unit', node);
        return code === null ? null : { code };
      },
      recalls: (unit, _, ctx) => ctx.loaders.recallsOfUnit.load(unit.code),
    },
    Verification: {
      async __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'unit', node);
        if (code === null) return null;
        const facts = await ctx.loaders.verification.load(code);
        return { code, modelStatus: facts?.model_status ?? null, openRecallCampaigns: facts?.open_recall_campaigns ?? [] };
      },
    },
    Enterprise: {
      // This subgraph cannot know whether the enterprise exists (that is the enterprises subgraph's
      // answer); it contributes the enterprise's models for any enterprise code of its country.
      __resolveReference(ref) {
        const code = referenceCode(ref.code, 'enterprise', node);
        return code === null ? null : { code };
      },
      productModels({ code }, args, ctx) {
        return resolvePage(args, {
          rows: (after, limit) => ctx.loaders.modelsOfEnterprise.load({ parent: code, after, limit }),
          count: () => ctx.loaders.modelCountOfEnterprise.load(code),
          position: (row) => row.code,
        });
      },
    },
    Registry: {
      __resolveReference(ref) {
        return ref.country === node.country ? { country: node.country } : null;
      },
      productModels({ country }, args) {
        return resolveTablePage(db, PRODUCT_MODEL, { column: 'country', value: country }, args);
      },
    },
  }),
};



function groupBy<Row>(rows: readonly Row[], keyOf: (row: Row) => string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}
