import type DataLoader from 'dataloader';
import { registryError } from '../../lib/errors.js';
import { formatCode } from '../../lib/identity-code/identity-code.js';
import { readCode, readHomeCode, referenceCode, ownsCode } from '../../lib/subgraph/codes.js';
import { readReason, readText } from '../../lib/subgraph/text.js';
import { keyedLoader } from '../../lib/subgraph/keyed-loader.js';
import { findByKeys, resolveTablePage } from '../../lib/subgraph/keyed-table.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { SubgraphModule } from '../../lib/subgraph/subgraph-module.js';
import { insertEnterprise } from './enterprise-repository.js';
import { enqueueAlerts } from '../../lib/alerts/outbox.js';
import { changeStatus, statusChangesLoader } from '../../lib/subgraph/status-change.js';
import { listPageSource, resolvePage } from '../../lib/subgraph/pagination.js';
import { ENTERPRISE, ENTERPRISE_STATUS, type EnterpriseRow, type EnterprisesDb, type EnterpriseStatusChangeRow } from './enterprise-table.js';
import { migrations } from './migrations.js';
import type { Resolvers } from './resolvers-types.generated.js';

export interface Loaders {
  enterprise: DataLoader<string, EnterpriseRow | null>;
  /** Oldest first. */
  statusChanges: DataLoader<string, EnterpriseStatusChangeRow[]>;
}

export const enterprisesSubgraph: SubgraphModule<EnterprisesDb, Loaders, Resolvers> = {
  name: 'enterprises',
  schema: 'enterprises',
  migrations,
  loaders: ({ db }) => ({
    enterprise: keyedLoader((codes) => findByKeys(db, ENTERPRISE, codes), (row) => row.code),
    statusChanges: statusChangesLoader(db, ENTERPRISE_STATUS) as DataLoader<string, EnterpriseStatusChangeRow[]>,
  }),
  resolvers: ({ db, node }) => ({
    DateTime,
    Query: {
      enterprise(_, { code }, ctx) {
        const canonical = readCode(code, 'enterprise');
        return ownsCode(canonical, node) ? ctx.loaders.enterprise.load(canonical) : null;
      },
    },
    Mutation: {
      async registerEnterprise(_, { input }) {
        const code = readHomeCode(input.code, 'enterprise', node);
        const name = readText(input.name, 'name', 200, 'enterprise name');
        const row = await insertEnterprise(db, { code, name });
        if (!row) throw registryError('ALREADY_REGISTERED', `enterprise ${code} is already registered`, { input: code });
        return row;
      },
      async setEnterpriseStatus(_, args, ctx) {
        const code = readHomeCode(args.code, 'enterprise', node);
        const reason = readReason(args.reason);
        const row = await changeStatus(db, ENTERPRISE_STATUS, code, {
          status: args.status,
          reason,
          changedBy: ctx.caller?.subject ?? null,
          requestId: ctx.requestId,
        }, (trx, previous) =>
          // Partners hear of a suspension or revocation (docs/alerts.md), in the decision's own transaction.
          args.status !== 'ACTIVE' && previous !== args.status
            ? enqueueAlerts(trx, [{ kind: 'ENTERPRISE_SUSPENDED', subject: code, occurredAt: new Date(), facts: { status: args.status, previousStatus: previous, reason } }])
            : Promise.resolve(),
        );
        if (!row) throw registryError('UNKNOWN_ENTERPRISE', `enterprise ${code} is not registered`, { input: code });
        return row;
      },
    },
    Enterprise: {
      __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'enterprise', node);
        return code === null ? null : ctx.loaders.enterprise.load(code);
      },
      display: (row) => formatCode(row.code),
      registeredAt: (row) => row.registered_at,
      async statusHistory(row, args, ctx) {
        return resolvePage(args, listPageSource(await ctx.loaders.statusChanges.load(row.code), (change) => String(change.id)));
      },
    },
    EnterpriseStatusChange: {
      previousStatus: (row) => row.previous_status,
      changedAt: (row) => row.changed_at,
    },
    Verification: {
      // The key is a unit code; its enterprise is the first 6 characters. Goes through the enterprise
      // loader, so a batch of any size (and any Enterprise references beside it) costs one statement.
      async __resolveReference(ref, ctx) {
        const code = referenceCode(ref.code, 'unit', node);
        if (code === null) return null;
        const enterprise = await ctx.loaders.enterprise.load(code.slice(0, 6));
        return { code, enterpriseStatus: enterprise?.status ?? null };
      },
    },
    Registry: {
      __resolveReference(ref) {
        return ref.country === node.country ? { country: node.country } : null;
      },
      enterprises({ country }, args) {
        return resolveTablePage(db, ENTERPRISE, { column: 'country', value: country }, args);
      },
    },
  }),
};

