import { buildSubgraphSchema } from '@apollo/subgraph';
import { findBreakingChanges, parse, type GraphQLSchema } from 'graphql';
import { type DataSubgraphName } from '../../lib/schema/contract.js';
import { CONTRACT_ADDITIONS, contractWithout, missingAdditions } from './contract-additions.js';

/**
 * A partner's subgraph conforms when its SDL is a superset of the contract's for the subgraph it claims
 * to be: every contract type, field, argument, enum value and entity is there with a compatible type.
 * Extra types and fields are fine. graphql-js's breaking-change detector is exactly this relation.
 * Fields a later contract version added (contract-additions.ts) are not required; when present, they
 * are checked like the rest.
 */
export function sdlProblems(subgraph: DataSubgraphName, theirSdl: string): string[] {
  let theirs: GraphQLSchema;
  try {
    theirs = buildSubgraphSchema(parse(theirSdl));
  } catch (error) {
    return [`SDL does not build as a subgraph: ${(error as Error).message.slice(0, 300)}`];
  }
  const contract = buildSubgraphSchema(contractWithout(subgraph, missingAdditions(subgraph, theirs)));
  return findBreakingChanges(contract, theirs).map((change) => `${change.description} (${change.type})`);
}

/** The optional fields of later contract versions the SDL does not serve (none when it does not build). */
export function unservedAdditions(subgraph: DataSubgraphName, theirSdl: string): string[] {
  try {
    return missingAdditions(subgraph, buildSubgraphSchema(parse(theirSdl))).fields;
  } catch {
    return [];
  }
}

/** Notes (not problems): the optional fields of later contract versions the SDL does not serve. */
export function sdlNotes(subgraph: DataSubgraphName, theirSdl: string): string[] {
  const fields = unservedAdditions(subgraph, theirSdl);
  return CONTRACT_ADDITIONS[subgraph]
    .map((addition) => ({ version: addition.version, fields: addition.fields.filter((f) => fields.includes(f)) }))
    .filter((a) => a.fields.length)
    .map((a) => `does not serve the contract ${a.version} additions ${a.fields.join(', ')} (optional: they read null for this registry)`);
}

/** The subgraph whose contract the SDL meets, if exactly one does (for `npm run conformance -- <url>`). */
export function claimedSubgraph(theirSdl: string, candidates: readonly DataSubgraphName[]): DataSubgraphName | null {
  const matches = candidates.filter((name) => sdlProblems(name, theirSdl).length === 0);
  return matches.length === 1 ? matches[0]! : null;
}
