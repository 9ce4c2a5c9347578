// First: graphql decides its development checks when it loads (see the module).
import '../../lib/server/graphql-production-checks.js';
import { openDatabase } from '../../lib/database/database.js';
import { createLogger, setRootLogger } from '../../lib/logging/logger.js';
import { startRegistryNode } from '../../subgraphs/registry-node.js';
import { serveCalls } from './child-process.js';
import { seedThroughApi, type SeedPlan } from './seed-through-api.js';

/**
 * A benchmark registry node (CN) in a process of its own. BENCH_SIGNING_SECRET (hex): requests must be
 * signed, as in production; absent: the unsigned twin for the peer gateways, every request acting as
 * the authority (RegistryNodeOptions.unsignedCallerForBenchmark). Counts its SQL statements per schema.
 */
setRootLogger(createLogger({ name: 'bench-node' }));
const secret = process.env.BENCH_SIGNING_SECRET;
delete process.env.NODE_SIGNING_SECRET;
const database = await openDatabase({ url: process.env.BENCH_DATABASE_URL! });
const statements: Record<string, number> = {};
database.onStatement((event) => void (statements[event.schema] = (statements[event.schema] ?? 0) + 1));
const node = await startRegistryNode({
  node: { country: 'CN', name: 'CN bench registry' },
  database,
  ...(secret
    ? { signing: { secret: Buffer.from(secret, 'hex') } }
    : { unsignedCallerForBenchmark: { subject: 'bench-peer', role: 'authority' as const } }),
});

serveCalls({
  statements: () => ({ ...statements }),
  seed: (plan: SeedPlan) => seedThroughApi(node, plan, (line) => console.log(line)),
  unitCount: async () => {
    const body = await node.execute('units', 'query { _entities(representations: [{ __typename: "Registry", country: "CN" }]) { ... on Registry { unitCount } } }');
    return (body.data as any)?._entities?.[0]?.unitCount ?? 0;
  },
  /** About `limit` registered codes spread over every product model (the analyst list, 500 a page). */
  codes: async ({ limit }: { limit: number }) => {
    const registry = async (selection: string, variables: Record<string, unknown> = {}) => {
      const declared = Object.keys(variables).length ? '($a: String, $m: ID)' : '';
      const body = await node.execute('units', `query${declared} { _entities(representations: [{ __typename: "Registry", country: "CN" }]) { ... on Registry { ${selection} } } }`, variables);
      const data = (body.data as any)?._entities?.[0];
      if (!data) throw new Error(`listing codes: ${JSON.stringify(body.errors)}`);
      return data;
    };
    const models: string[] = (await registry('unitsByModel { model { code } }')).unitsByModel.map((m: { model: { code: string } }) => m.model.code);
    const perModel = Math.ceil(limit / Math.max(1, models.length));
    const codes: string[] = [];
    for (const model of models) {
      let after: string | null = null;
      for (let taken = 0; taken < perModel; ) {
        const page: any = (await registry('units(first: 500, after: $a, filter: { model: $m }) { edges { node { code } } pageInfo { hasNextPage endCursor } }', { a: after, m: model })).units;
        const some = page.edges.slice(0, perModel - taken).map((e: { node: { code: string } }) => e.node.code);
        codes.push(...some);
        taken += some.length;
        if (!page.pageInfo.hasNextPage || !some.length) break;
        after = page.pageInfo.endCursor;
      }
    }
    return codes;
  },
});

const stop = async () => {
  await node.stop();
  await database.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('disconnect', () => void stop());
process.send!({ type: 'ready', urls: node.urls });
