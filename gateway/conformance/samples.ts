import type { DataSubgraphName } from '../../lib/schema/contract.js';
import type { Send } from './behaviour.js';
import { ask, codeOf, errorsOf, REFUSAL_CODES, shownErrors } from './findings.js';

/** The list of the own Registry each subgraph serves, from which the check takes codes of the node's own data. */
export const SAMPLE_LIST: Partial<Record<DataSubgraphName, string>> = {
  units: 'units',
  enterprises: 'enterprises',
  'product-models': 'productModels',
};

export interface Samples {
  /** Codes of the node's own data, in the node's order (at most `count`). */
  codes: string[];
  /** Why none could be read, when the list was refused or failed (a note, not a problem). */
  unreadable?: string;
}

/**
 * Codes the node has, found without knowing its data: `_entities` of its own `Registry` and the first
 * items of the subgraph's list there (`Registry.units`, `.enterprises`, `.productModels`).
 */
export async function ownSamples(subgraph: DataSubgraphName, country: string, send: Send, count: number): Promise<Samples> {
  const list = SAMPLE_LIST[subgraph];
  if (!list) return { codes: [] };
  const answer = await ask(
    send,
    `query ConformanceSamples($r: [_Any!]!) { _entities(representations: $r) { ... on Registry { ${list}(first: ${count}) { edges { node { code } } } } } }`,
    { r: [{ __typename: 'Registry', country }] },
  );
  const errors = errorsOf(answer);
  const edges = answer.data?._entities?.[0]?.[list]?.edges;
  if (!Array.isArray(edges)) {
    const refused = errors.some((e) => REFUSAL_CODES.has(String(codeOf(e))));
    return {
      codes: [],
      unreadable: `Registry.${list}(first: ${count}) of country ${country} could not be read (${shownErrors(errors)})${refused ? ': lists need a signed-in reader on this node (give the check its signing secret: --signing-secret-env NAME)' : ''}`,
    };
  }
  return { codes: edges.map((e: { node?: { code?: unknown } }) => e?.node?.code).filter((c: unknown): c is string => typeof c === 'string') };
}
