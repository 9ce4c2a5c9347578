import { buildSubgraphSchema } from '@apollo/subgraph';
import { findBreakingChanges, parse, type GraphQLSchema } from 'graphql';
import { loadSdl, type DataSubgraphName } from '../../lib/schema/contract.js';

/**
 * A partner's subgraph conforms when its SDL is a superset of the contract's for the subgraph it claims
 * to be: every contract type, field, argument, enum value and entity is there with a compatible type.
 * Extra types and fields are fine. graphql-js's breaking-change detector is exactly this relation.
 */
export function sdlProblems(subgraph: DataSubgraphName, theirSdl: string): string[] {
  let theirs: GraphQLSchema;
  try {
    theirs = buildSubgraphSchema(parse(theirSdl));
  } catch (error) {
    return [`SDL does not build as a subgraph: ${(error as Error).message.slice(0, 300)}`];
  }
  const contract = buildSubgraphSchema(parse(loadSdl(subgraph)));
  return findBreakingChanges(contract, theirs).map((change) => `${change.description} (${change.type})`);
}

/** The subgraph whose contract the SDL meets, if exactly one does (for `npm run conformance -- <url>`). */
export function claimedSubgraph(theirSdl: string, candidates: readonly DataSubgraphName[]): DataSubgraphName | null {
  const matches = candidates.filter((name) => sdlProblems(name, theirSdl).length === 0);
  return matches.length === 1 ? matches[0]! : null;
}
