import type DataLoader from 'dataloader';
import { registryError } from '../../lib/errors.js';
import { formatCode } from '../../lib/identity-code/identity-code.js';
import { ownsCode, readCode, readHomeCode, referenceCode } from '../../lib/subgraph/codes.js';
import { groupedLoader, keyedLoader, pageLoader, type PageRequest } from '../../lib/subgraph/keyed-loader.js';
import { decodeCursor, pageLimit, toPage, type PageArgs } from '../../lib/subgraph/pagination.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { SubgraphContext, SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { migrations } from './migrations.js';
import {
  countProductModelsOfCountry,
  countProductModelsOfEnterprises,
  findProductModels,
  insertProductModel,
  listProductModelsOfCountry,
  pageProductModelsOfEnterprises,
} from './product-model-repository.js';
import type { ProductModelRow, ProductModelsDb } from './product-model-table.js';

interface Loaders {
  model: DataLoader<string, ProductModelRow | null>;
  modelsOfEnterprise: DataLoader<PageRequest, ProductModelRow[], string>;
  modelCountOfEnterprise: DataLoader<string, number>;
}
type Context = SubgraphContext<Loaders>;

interface RegisterInput {
  code: string;
  name: string;
  category: string;
}

export const productModelsSubgraph: SubgraphModule<ProductModelsDb, Loaders> = {
  name: 'product-models',
  schema: 'product_models',
  migrations,
  loaders: ({ db }) => ({
    model: keyedLoader((codes) => findProductModels(db, codes), (row) => row.code),
    modelsOfEnterprise: pageLoader(
      (requests, limit) => pageProductModelsOfEnterprises(db, requests.map((r) => ({ enterprise: r.parent, after: r.after })), limit),
      (row) => row.enterprise_code,
    ),
    modelCountOfEnterprise: groupedLoader((codes) => countProductModelsOfEnterprises(db, codes), 0),
  }),
  resolvers: ({ db, node, siblings }) => ({
    DateTime,
    Query: {
      productModel(_: unknown, { code }: { code: string }, ctx: Context) {
        const canonical = readCode(code, 'productModel');
        return ownsCode(canonical, node) ? ctx.loaders.model.load(canonical) : null;
      },
    },
    Mutation: {
      async registerProductModel(_: unknown, { input }: { input: RegisterInput }, ctx: Context) {
        const code = readHomeCode(input.code, 'productModel', node);
        const name = requireText(input.name, 'name', 200);
        const category = requireText(input.category, 'category', 100);
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
    },
    ProductModel: {
      __resolveReference(ref: { code: unknown }, ctx: Context) {
        const code = referenceCode(ref.code, 'productModel', node);
        return code === null ? null : ctx.loaders.model.load(code);
      },
      display: (row: ProductModelRow) => formatCode(row.code),
      enterprise: (row: ProductModelRow) => ({ code: row.enterprise_code }),
      registeredAt: (row: ProductModelRow) => row.registered_at,
    },
    Enterprise: {
      // This subgraph cannot know whether the enterprise exists (that is the enterprises subgraph's
      // answer); it contributes the enterprise's models for any enterprise code of its country.
      __resolveReference(ref: { code: unknown }) {
        const code = referenceCode(ref.code, 'enterprise', node);
        return code === null ? null : { code };
      },
      async productModels({ code }: { code: string }, args: PageArgs, ctx: Context) {
        const limit = pageLimit(args.first);
        const after = decodeCursor(args.after);
        const [rows, total] = await Promise.all([
          ctx.loaders.modelsOfEnterprise.load({ parent: code, after, limit: limit + 1 }),
          ctx.loaders.modelCountOfEnterprise.load(code),
        ]);
        return toPage(rows, limit, (row) => row.code, total);
      },
    },
    Registry: {
      __resolveReference(ref: { country: unknown }) {
        return ref.country === node.country ? { country: node.country } : null;
      },
      async productModels({ country }: { country: string }, args: PageArgs) {
        const limit = pageLimit(args.first);
        const after = decodeCursor(args.after);
        const [rows, total] = await Promise.all([
          listProductModelsOfCountry(db, country, after, limit + 1),
          countProductModelsOfCountry(db, country),
        ]);
        return toPage(rows, limit, (row) => row.code, total);
      },
    },
  }),
};

function requireText(value: string, field: string, max: number): string {
  const text = value.trim();
  if (text.length < 1 || text.length > max) {
    throw registryError('BAD_USER_INPUT', `product model ${field} must be 1 to ${max} characters`, { field });
  }
  return text;
}
