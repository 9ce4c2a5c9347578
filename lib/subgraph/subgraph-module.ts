import type { buildSubgraphSchema } from '@apollo/subgraph';
import type { Kysely, Migration } from 'kysely';
import type { NodeSubgraphName } from '../schema/contract.js';
import type { RequestContext } from '../server/request-context.js';
import type { AlertTargetsFor } from '../alerts/alert-url-policy.js';
import type { SiblingClient } from './sibling-client.js';

/** The registry node a subgraph belongs to: one country, one database. */
export interface NodeIdentity {
  /** The country segment this node owns (e.g. CN). */
  country: string;
  name: string;
}

export interface SubgraphDeps<DB> {
  node: NodeIdentity;
  /** Scoped to the subgraph's own Postgres schema: another subgraph's tables are out of reach. */
  db: Kysely<DB>;
  /** Entity lookups on the other subgraphs of the same node, through their public contract. */
  siblings: SiblingClient;
  /** Push alerts (the audit subgraph serves their subscriptions): which URLs each partner may use. */
  alerts?: AlertsDeps;
}

export interface AlertsDeps {
  targetsFor: AlertTargetsFor;
  clock?: () => Date;
}

export type SubgraphContext<TLoaders> = RequestContext & { loaders: TLoaders };

/** The resolver map buildSubgraphSchema takes, read from its public signature (the type itself is not exported). */
export type GraphQLResolverMap<_TContext = unknown> = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

/** What a subgraph knows of an entity another subgraph owns: its key. */
export interface CodeRef {
  code: string;
}

export interface CountryRef {
  country: string;
}

/**
 * Everything the node needs to run one subgraph. Subgraphs are plain modules exporting one of these;
 * they depend on lib/, never on each other.
 */
export interface SubgraphModule<DB, TLoaders, TResolvers extends object = object> {
  name: NodeSubgraphName;
  /** The Postgres schema this subgraph owns. */
  schema: string;
  migrations: Record<string, Migration>;
  /** Typed by the resolver types generated from the subgraph's SDL (resolvers-types.generated.ts). */
  resolvers(deps: SubgraphDeps<DB>): TResolvers;
  /** Per-request DataLoaders: a new set for every request so no cache leaks between callers. */
  loaders(deps: SubgraphDeps<DB>): TLoaders;
}
