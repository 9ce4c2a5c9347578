import type { Database } from '../lib/database/database.js';
import { rootLogger, type Logger } from '../lib/logging/logger.js';
import { nonceStoreFromEnv } from '../lib/security/nonce-store.js';
import { SIGNING_SECRET_ENV, signingFromEnv, type SigningOptions } from '../lib/security/signing-secret.js';
import type { NodeSubgraphName } from '../lib/schema/contract.js';
import type { Caller } from '../lib/server/request-context.js';
import { httpSiblingClient } from '../lib/subgraph/sibling-client.js';
import type { NodeIdentity, SubgraphModule } from '../lib/subgraph/subgraph-module.js';
import { startSubgraph, type RunningSubgraph } from '../lib/subgraph/subgraph-server.js';
import { AlertDispatcher, crashHookFromEnv, type DispatcherOptions } from '../lib/alerts/alert-dispatcher.js';
import type { AlertTargetsFor } from '../lib/alerts/alert-url-policy.js';
import { ALERTS_SCHEMA, type AlertsDb } from '../lib/alerts/alerts-table.js';
import { auditSubgraph } from './audit/index.js';
import { enterprisesSubgraph } from './enterprises/index.js';
import { lifecycleSubgraph } from './lifecycle/index.js';
import { productModelsSubgraph } from './product-models/index.js';
import { unitsSubgraph } from './units/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SUBGRAPH_MODULES: Record<NodeSubgraphName, SubgraphModule<any, any>> = {
  enterprises: enterprisesSubgraph,
  'product-models': productModelsSubgraph,
  units: unitsSubgraph,
  lifecycle: lifecycleSubgraph,
  audit: auditSubgraph,
};

export interface RegistryNodeOptions {
  node: NodeIdentity;
  database: Database;
  /** Fixed ports per subgraph; 0 or missing picks a free one. */
  ports?: Partial<Record<NodeSubgraphName, number>>;
  host?: string;
  /** Run only these subgraphs (docker-compose runs one per container); siblings' URLs then come from `siblingUrls`. */
  only?: NodeSubgraphName[];
  siblingUrls?: Partial<Record<NodeSubgraphName, string>>;
  /** The secret the gateway signs with; defaults to NODE_SIGNING_SECRET. With one, unsigned requests are refused. */
  signing?: SigningOptions;
  /** Where the node's lines go (default the root logger); tests pass one that collects them. */
  logger?: Logger;
  /**
   * `npm run bench` only: the peer gateways it measures cannot sign, so a second node over the same database
   * runs unsigned and treats every request as this caller. No flag or environment variable sets it, it
   * cannot be combined with a signing secret, and it is refused under NODE_ENV=production.
   */
  unsignedCallerForBenchmark?: Caller;
  /** Push alerts: where partners may receive them, and the dispatcher's settings (docs/alerts.md). */
  alerts?: NodeAlertsOptions;
}

export interface NodeAlertsOptions extends Partial<Omit<DispatcherOptions, 'db' | 'log' | 'country' | 'targetsFor'>> {
  targetsFor: AlertTargetsFor;
  /** false: the dispatcher is created but not started (tests drive it with tick()). Default true. */
  autoStart?: boolean;
}

export interface RunningNode {
  node: NodeIdentity;
  urls: Partial<Record<NodeSubgraphName, string>>;
  /**
   * Runs an operation on one of its subgraphs in this process, as the node itself (`node:<country>`, with
   * the authority's rights): how a node seeds its own demo data without opening a door on the network.
   */
  execute(subgraph: NodeSubgraphName, query: string, variables?: Record<string, unknown>): ReturnType<RunningSubgraph['execute']>;
  /** The alert dispatcher, in the process that runs the audit subgraph (one per process). */
  alerts?: AlertDispatcher;
  stop(): Promise<void>;
}

/** A registry node: the four subgraphs of one country over one database. No gateway. */
export async function startRegistryNode(options: RegistryNodeOptions): Promise<RunningNode> {
  const urls: Partial<Record<NodeSubgraphName, string>> = { ...options.siblingUrls };
  const signing = options.signing ?? signingFromEnv();
  if (options.unsignedCallerForBenchmark && (signing || process.env.NODE_ENV === 'production')) {
    throw new Error('unsignedCallerForBenchmark is for npm run bench only: never with a signing secret or NODE_ENV=production');
  }
  if (!signing) {
    // Without a secret any process that reaches a subgraph port could write: never so in production.
    if (process.env.NODE_ENV === 'production') throw new Error(`${SIGNING_SECRET_ENV} must be set in production (at least 32 bytes, hex or base64; e.g. openssl rand -hex 32)`);
    rootLogger().warn(`${SIGNING_SECRET_ENV} is not set: the subgraphs of ${options.node.country} accept unsigned requests (development only)`);
  }
  const nonces = nonceStoreFromEnv();
  const siblings = httpSiblingClient(() => urls, signing && { ...signing, country: options.node.country });
  const servers: RunningSubgraph[] = [];
  const byName = new Map<NodeSubgraphName, RunningSubgraph>();
  const names = options.only ?? (Object.keys(SUBGRAPH_MODULES) as NodeSubgraphName[]);
  const log = options.logger ?? rootLogger();
  // Migrated by each subgraph as it starts (lib/subgraph/subgraph-server.ts): the writers need the outbox.
  const alertsDb = options.database.forSchema<AlertsDb>(ALERTS_SCHEMA);
  const alertsDeps = options.alerts && { targetsFor: options.alerts.targetsFor, clock: options.alerts.clock };
  let dispatcher: AlertDispatcher | undefined;
  try {
    // Sequential: migrations of one database should not race each other's locks at start-up.
    for (const name of names) {
      const server = await startSubgraph(SUBGRAPH_MODULES[name], {
        node: options.node,
        database: options.database,
        siblings,
        signing,
        nonces,
        port: options.ports?.[name] ?? 0,
        host: options.host,
        logger: options.logger,
        unsignedCallerForBenchmark: options.unsignedCallerForBenchmark,
        alerts: alertsDeps,
      });
      servers.push(server);
      byName.set(name, server);
      urls[name] = server.url;
    }
    // Only with alert settings: a node without them (most tests) makes no polling statements.
    if (names.includes('audit') && options.alerts) {
      const { autoStart = true, targetsFor, ...settings } = options.alerts;
      dispatcher = new AlertDispatcher({ db: alertsDb, log: log.child({ service: 'alerts' }), country: options.node.country, targetsFor, beforeSend: crashHookFromEnv(process.env), ...settings });
      if (autoStart) dispatcher.start();
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    await nonces.close();
    throw error;
  }
  const self = { subject: `node:${options.node.country}`, role: 'authority' as const, country: options.node.country };
  return {
    node: options.node,
    urls,
    execute(subgraph, query, variables) {
      const server = byName.get(subgraph);
      if (!server) throw new Error(`the ${subgraph} subgraph does not run in this process`);
      return server.execute(query, variables, self);
    },
    alerts: dispatcher,
    async stop() {
      await dispatcher?.stop();
      await Promise.all(servers.map((s) => s.stop()));
      await nonces.close();
    },
  };
}
