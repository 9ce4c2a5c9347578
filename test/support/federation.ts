import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { openDatabase, type Database, type DatabaseConfig } from '../../lib/database/database.js';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken, type TokenRequest } from '../../gateway/identity/development-key.js';
import { identityFromEnv } from '../../gateway/identity/identity-from-env.js';
import type { RegistryDirectory } from '../../gateway/directory/registry-directory.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway-server.js';
import type { LimitsConfig } from '../../gateway/limits/limits-config.js';
import type { ReceiptKeyRing } from '../../gateway/receipts/receipt-keys.js';
import { startRegistryNode, type NodeAlertsOptions, type RunningNode } from '../../subgraphs/registry-node.js';
import { TEST_SIGNING, TEST_SIGNING_ENV } from './signing.js';
import { createTestDatabase } from './test-database.js';

export interface NodeSpec {
  country: string;
  name?: string;
  /** An existing database (already filled, e.g. by the bulk loader) instead of a fresh one; the caller drops it. */
  database?: DatabaseConfig;
}

export interface Federation {
  gateway: RunningGateway;
  nodes: RunningNode[];
  databases: Database[];
  /** The directory in force now (it changes when a test applies a new one). */
  readonly directory: RegistryDirectory;
  /** The directory JSON the federation started with. */
  directoryInput: { registries: Record<string, unknown>[] };
  /**
   * POSTs to the gateway and returns the parsed GraphQL response. The caller is the authority unless
   * `as` names another (`null`: anonymous, no token at all).
   */
  query<T = any>(query: string, variables?: Record<string, unknown>, as?: Caller): Promise<GraphQLResponse<T>>;
  /** Headers that sign a request in as `as` (a token of the gateway's test key), for tests that fetch themselves. */
  headers(as?: Caller): Promise<Record<string, string>>;
  /** The private JWK the gateway trusts, for tests that craft tokens of their own (expired, wrong audience...). */
  privateJwk: JWK;
  stop(): Promise<void>;
}

/** Who a test request is from: claims for a token, or null for an anonymous request. */
export type Caller = Omit<TokenRequest, 'issuer' | 'audience' | 'ttl'> | null;

export const AUTHORITY: Caller = { subject: 'test-authority', role: 'authority' };

export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/**
 * Real nodes on real databases behind a real gateway, on free ports: the first node is home.
 * Each node gets a database of its own, as separate countries' registries would.
 */
export async function startFederation(
  specs: NodeSpec[],
  options: {
    limits?: Record<string, number>;
    checkConformance?: boolean;
    examples?: { title: string; query: string }[];
    /** Gateway limits over the test defaults (e.g. `hideSchemaFromAnonymous`, production's schema privacy). */
    gatewayLimits?: Partial<LimitsConfig>;
    /** Receipt signing keys (default: a key for this gateway only). */
    receiptKeys?: ReceiptKeyRing | null;
    /** Push-alert settings of the home node (test/alerts.test.ts); without them it runs no dispatcher. */
    homeAlerts?: NodeAlertsOptions;
  } = {},
): Promise<Federation> {
  const drops: (() => Promise<void>)[] = [];
  const databases: Database[] = [];
  const nodes: RunningNode[] = [];
  for (const spec of specs) {
    let config = spec.database;
    if (!config) {
      const testDb = await createTestDatabase();
      drops.push(testDb.drop);
      config = testDb.config;
    }
    const database = await openDatabase(config);
    databases.push(database);
    nodes.push(await startRegistryNode({ node: { country: spec.country, name: spec.name ?? `${spec.country} registry` }, database, signing: TEST_SIGNING, alerts: nodes.length === 0 ? options.homeAlerts : undefined }));
  }
  const directoryInput = {
    // Partners run this software with the same secret, so their entries name it (the home node's is the gateway's own).
    registries: nodes.map((n, i) => ({
      name: n.node.name,
      countries: [n.node.country],
      home: i === 0,
      subgraphs: n.urls,
      ...(i > 0 ? { signing: { fromEnv: TEST_SIGNING_ENV } } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    })),
  };
  // Callers sign in with tokens of a key made for this federation (the gateway's development key setup).
  const keyDir = mkdtempSync(join(tmpdir(), 'federation-keys-'));
  const identity = await identityFromEnv({ dataDir: keyDir, env: {} });
  const { privateJwk } = await ensureDevelopmentKey(keyDir);
  const headers = async (as: Caller = AUTHORITY): Promise<Record<string, string>> =>
    as === null ? {} : { authorization: `Bearer ${await signToken(privateJwk, { ...as, issuer: DEVELOPMENT_ISSUER, audience: DEFAULT_AUDIENCE })}` };
  const gateway = await startGateway({
    directory: directoryInput,
    identity,
    signing: TEST_SIGNING,
    store: { checkConformance: options.checkConformance },
    examples: options.examples,
    receiptKeys: options.receiptKeys,
    // Every test sends from one anonymous address; rate and concurrency limits have their own tests (limits.test.ts).
    limits: { anonymousRate: { points: 100_000_000, windowSeconds: 60 }, maxInFlightPerCaller: 10_000, ...options.gatewayLimits },
  });
  return {
    gateway,
    nodes,
    databases,
    get directory() {
      return gateway.store.directory;
    },
    directoryInput,
    headers,
    privateJwk,
    async query(query, variables, as) {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await headers(as)) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse<any>;
    },
    async stop() {
      await gateway.stop();
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all(databases.map((d) => d.close()));
      await Promise.all(drops.map((drop) => drop()));
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
